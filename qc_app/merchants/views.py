"""The rights centre (权益中心), CSV consignment import, and the admin's merchant standing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from qc_app.authz import MERCHANT_PORTAL, PLATFORM
from qc_app.db import request_session
from qc_app.i18n import msg
from qc_app.intake import services as intake
from qc_app.intake.views import NEW_ROWS
from qc_app.merchants import programme, services
from qc_app.units import yuan_to_fen
from qc_app.web import actor, config, now, permission_required, translate

bp = Blueprint("merchants", __name__)


@bp.app_context_processor
def _declared_materials() -> dict[str, Any]:
    # The merchant consignment pages (rendered by intake's views) name declared materials.
    from qc_app.rules.engine import load_ruleset

    return {"declared_materials": load_ruleset().declarations}


@bp.get("/m/rights")
@permission_required(MERCHANT_PORTAL)
def rights() -> Any:
    centre = services.rights_centre(session=request_session(), actor=actor())
    return render_template(
        "merchants/rights.html",
        centre=centre,
        agreement_zh=programme.AGREEMENT_ZH,
        agreement_en=programme.AGREEMENT_EN,
        agreement_version=programme.AGREEMENT_VERSION,
        agreement_sha256=programme.agreement_sha256(),
        categories=programme.ALL_CATEGORIES,
        category_codes=programme.category_codes(centre.merchant.categories),
    )


@bp.post("/m/rights/join")
@permission_required(MERCHANT_PORTAL)
def join() -> Any:
    services.join_programme(
        session=request_session(),
        actor=actor(),
        agreement_sha256=request.form.get("agreement_sha256", ""),
        accepted=request.form.get("accept") == "yes",
        now=now(),
    )
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


@bp.post("/m/consignments/new")
@permission_required(MERCHANT_PORTAL)
def create_consignment() -> Any:
    """The portal's form: per row a listing, declared material, mass, price, note and photo."""
    form, uploads = request.form, request.files
    rows = []
    for i in range(NEW_ROWS):
        if not form.get(f"listing_{i}"):
            continue
        spec: dict[str, Any] = {
            "listing_id": form.get(f"listing_{i}"),
            "mass_g": form.get(f"mass_{i}"),
            "description": form.get(f"description_{i}", ""),
            "order_no": form.get(f"order_{i}", "").strip(),
        }
        if form.get(f"material_{i}"):
            spec["declared_material"] = form.get(f"material_{i}")
        if form.get(f"price_{i}", "").strip():
            spec["price_fen"] = yuan_to_fen(form.get(f"price_{i}", ""))
        upload = uploads.get(f"photo_{i}")
        if upload and upload.filename:
            spec["photo"] = upload.read()
        rows.append(spec)
    consignment = intake.create_consignment(
        session=request_session(),
        actor=actor(),
        items=rows,
        now=now(),
        files=config().INSTANCE_PATH,
    )
    return redirect(url_for("intake.consignment", code=consignment.code))


@bp.post("/m/consignments/import")
@permission_required(MERCHANT_PORTAL)
def import_csv() -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    try:
        consignment = intake.import_consignment_csv(
            session=request_session(), actor=actor(), data=data, now=now()
        )
    except intake.CsvRejected as exc:
        return render_template("merchants/csv_errors.html", error=exc), 422
    flash(translate(msg("已导入送检单")), "success")
    return redirect(url_for("intake.consignment", code=consignment.code))


@bp.get("/m/consignments/template.csv")
@permission_required(MERCHANT_PORTAL)
def csv_template() -> Any:
    # The import's columns; people fill in price_yuan (price_fen, the same price, is for programs).
    body = ",".join(c for c in intake.CSV_COLUMNS if c != "price_fen") + "\n"
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="consignment-template.csv"'},
    )


@bp.get("/admin/merchants")
@permission_required(PLATFORM)
def admin_merchants() -> Any:
    merchants = services.all_merchants(session=request_session(), actor=actor())
    return render_template(
        "merchants/admin.html",
        merchants=merchants,
        checks={m.id: programme.eligibility(m) for m in merchants},
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
