"""The rights centre (权益中心) and the admin's merchant standing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from qc_app.authz import MERCHANT_PORTAL, PLATFORM
from qc_app.db import request_session
from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.merchants import programme, services
from qc_app.web import (
    actor,
    form_again,
    list_page,
    now,
    permission_required,
    render_list,
    translate,
)

bp = Blueprint("merchants", __name__)


@bp.get("/m/rights")
@permission_required(MERCHANT_PORTAL)
def rights() -> Any:
    return render_template("merchants/rights.html", **_centre())


def _centre() -> dict[str, Any]:
    """What the rights centre shows: the merchant's standing and the agreement to sign."""
    centre = services.rights_centre(session=request_session(), actor=actor())
    return {
        "centre": centre,
        "agreement_zh": programme.AGREEMENT_ZH,
        "agreement_en": programme.AGREEMENT_EN,
        "agreement_version": programme.AGREEMENT_VERSION,
        "agreement_sha256": programme.agreement_sha256(),
        "categories": programme.ALL_CATEGORIES,
        "category_codes": programme.category_codes(centre.merchant.categories),
    }


@bp.post("/m/rights/join")
@permission_required(MERCHANT_PORTAL)
def join() -> Any:
    try:
        services.join_programme(
            session=request_session(),
            actor=actor(),
            agreement_sha256=request.form.get("agreement_sha256", ""),
            accepted=request.form.get("accept") == "yes",
            now=now(),
        )
    except ValidationFailed as exc:
        return form_again("merchants/rights.html", exc, **_centre())
    flash(
        translate(msg("已签署协议，鉴定验真服务已开通")),
        "success",
    )
    return redirect(url_for("merchants.rights"))


@bp.post("/m/rights/leave")
@permission_required(MERCHANT_PORTAL)
def leave() -> Any:
    services.leave_programme(
        session=request_session(), actor=actor(), reason=request.form.get("reason"), now=now()
    )
    flash(
        translate(msg("已退出鉴定验真服务，标签已下线")),
        "success",
    )
    return redirect(url_for("merchants.rights"))


@bp.get("/admin/merchants")
@permission_required(PLATFORM)
def admin_merchants() -> Any:
    found = list_page(services.merchant_list())
    if isinstance(found, Response):
        return found
    return render_list(
        "merchants/admin.html",
        found,
        checks={m.id: programme.eligibility(m) for m in found.rows},
        categories=programme.ALL_CATEGORIES,
        category_codes=programme.category_codes,
    )


@bp.post("/admin/merchants/<int:merchant_id>")
@permission_required(PLATFORM)
def admin_standing(merchant_id: int) -> Any:
    form = request.form
    services.set_standing(
        session=request_session(),
        actor=actor(),
        merchant_id=merchant_id,
        legal_rep_verified=form.get("legal_rep_verified") == "yes",
        serious_violations=form.get("serious_violations", "0"),
        categories=form.getlist("categories"),
        now=now(),
    )
    flash(translate(msg("已保存")), "success")
    return redirect(url_for("merchants.admin_merchants"))
