from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qc_app.authz import LAB_TERMINAL, PLATFORM
from qc_app.db import request_session
from qc_app.errors import Conflict, DomainError, ValidationFailed
from qc_app.i18n import msg
from qc_app.inspection import forms, services
from qc_app.inspection.models import SEAL_NAME_MAX_CHARS
from qc_app.inspection.workflow import MACHINE as INSPECTIONS
from qc_app.items.models import Item
from qc_app.items.services import get_item, item_list
from qc_app.items.workflow import ItemState
from qc_app.merchants.services import merchant_choices
from qc_app.rules.engine import load_ruleset
from qc_app.rules.pieces import articles
from qc_app.units import cg_to_mass
from qc_app.web import (
    actor,
    config,
    form_again,
    list_page,
    locale,
    now,
    permission_required,
    render_list,
    translate,
)

bp = Blueprint("inspection", __name__)


@bp.get("/lab")
@permission_required(LAB_TERMINAL)
def lab() -> Any:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("inspection.form", code=code))
    db = request_session()
    found = list_page(
        item_list([ItemState.RECEIVED, ItemState.IN_INSPECTION]),
        opens=lambda row: url_for("inspection.form", code=row[0].code),
        merchants=merchant_choices(db),
    )
    mine = services.awaiting_review_by(session=db, actor=actor())
    return render_list("inspection/lab.html", found, mine=mine)


@bp.get("/lab/<code>")
@permission_required(LAB_TERMINAL)
def form(code: str) -> Any:
    return _render_form(code, {})


# The lab form's own buttons and the preview's carried digest: not readings.
CONTROLS = frozenset({"csrf_token", "action", "digest", "add_group"})


@bp.post("/lab/<code>")
@permission_required(LAB_TERMINAL)
def record(code: str) -> Any:
    """The form's submit previews (nothing saved); the preview's 确认记录 records exactly what
    it showed; 返回修改 goes back to the form with every value kept."""
    db = request_session()
    item = get_item(session=db, actor=actor(), code=code)
    rules = load_ruleset()
    typed = {k: v for k, v in request.form.items() if k not in CONTROLS}
    if item.components:
        raw = forms.parse_piece_form(rules, item.components, typed)
    else:
        raw = forms.parse_form(rules, rules.family_of(item.declared_material), typed)
    action = request.form.get("action", "preview")
    if action == "back":
        return _render_form(code, typed)
    added = request.form.get("add_group", "")
    if added.isdigit():  # 添加一组: the form again, one more group of beads not as declared
        return _render_form(code, typed, add_group=int(added))
    try:
        if action == "confirm":
            services.confirm_inspection(
                session=db,
                actor=actor(),
                code=code,
                raw=raw,
                digest=request.form.get("digest", ""),
                key=config().PREVIEW_KEY,
                now=now(),
            )
            return redirect(url_for("inspection.lab", done=code))
        preview = services.preview_inspection(
            session=db, actor=actor(), code=code, raw=raw, now=now()
        )
    except (ValidationFailed, Conflict) as exc:
        # Keep what the analyst typed: the form again, each problem by its field, nothing saved.
        return _render_form(code, typed, error=exc), exc.status
    return render_template(
        "inspection/preview.html",
        item=item,
        judgement=preview.judgement,
        shown=services.preview_view(preview, locale()),
        typed=typed,
        digest=services.preview_digest(preview, actor=actor(), key=config().PREVIEW_KEY),
        declared_mass=cg_to_mass(item.declared_mass_cg),
    )


@bp.post("/lab/results/<int:inspection_id>/withdraw")
@permission_required(INSPECTIONS.transitions["withdraw"])
def withdraw(inspection_id: int) -> Any:
    db = request_session()
    found = services.withdraw(session=db, actor=actor(), inspection_id=inspection_id, now=now())
    _, item = services.get_inspection(session=db, inspection_id=found.id or 0)
    flash(translate(msg("已撤回检测结果 #{id}，请重新检测", id=found.id)), "success")
    return redirect(url_for("inspection.form", code=item.code))


def _render_form(
    code: str,
    values: dict[str, Any],
    error: DomainError | None = None,
    add_group: int | None = None,
) -> str:
    db = request_session()
    item = get_item(session=db, actor=actor(), code=code)
    rules = load_ruleset()
    family = rules.family_of(item.declared_material)
    if item.components:
        sections = forms.piece_form(rules, item.components, locale(), values, add_group)
    else:
        sections = [
            forms.Section(msg("测量"), forms.measurement_form(rules, family, locale(), values))
        ]
    history = services.history(session=db, item=item)
    return render_template(
        "inspection/form.html",
        item=item,
        family=rules.families[family],
        sections=sections,
        article=articles(rules).get(item.article_type or ""),
        history=history,
        withdrawable=_withdrawable(history, item),
        measurable=item.state in (ItemState.RECEIVED, ItemState.IN_INSPECTION),
        declared_mass=cg_to_mass(item.declared_mass_cg),
        error=error,
        errors=error.fields if isinstance(error, ValidationFailed) else {},
    )


def _withdrawable(history: list[services.HistoryEntry], item: Item) -> set[int]:
    """The results in `history` this user may withdraw (their own, not yet reviewed)."""
    db = request_session()
    return {
        h.inspection.id or 0
        for h in history
        if services.offers(
            session=db, actor=actor(), inspection=h.inspection, item=item, now=now()
        ).may_withdraw
    }


@bp.get("/review")
@permission_required(INSPECTIONS.transitions["approve"])
def review_queue() -> Any:
    found = list_page(
        services.review_list(),
        opens=lambda row: url_for("inspection.review", inspection_id=row[0].id),
        merchants=merchant_choices(request_session()),
    )
    return render_list("inspection/review_queue.html", found)


@bp.get("/review/<int:inspection_id>")
@permission_required(INSPECTIONS.transitions["approve"])
def review(inspection_id: int) -> Any:
    db = request_session()
    inspection, item = services.get_inspection(session=db, inspection_id=inspection_id)
    return render_template(
        "inspection/review.html",
        offer=services.offers(
            session=db, actor=actor(), inspection=inspection, item=item, now=now()
        ),
        inspection=inspection,
        item=item,
        shown=services.result_view(inspection, locale()),
        reasons=inspection.reasons,
        declared_mass=cg_to_mass(item.declared_mass_cg),
        history=[h for h in services.history(session=db, item=item) if h.id != inspection.id],
    )


@bp.post("/review/<int:inspection_id>/approve")
@permission_required(INSPECTIONS.transitions["approve"])
def approve(inspection_id: int) -> Any:
    services.approve(
        session=request_session(), actor=actor(), inspection_id=inspection_id, now=now()
    )
    return redirect(url_for("inspection.review_queue"))


@bp.post("/review/<int:inspection_id>/send-back")
@permission_required(INSPECTIONS.transitions["approve"])
def send_back(inspection_id: int) -> Any:
    services.send_back(
        session=request_session(),
        actor=actor(),
        inspection_id=inspection_id,
        note=request.form.get("note", ""),
        now=now(),
    )
    return redirect(url_for("inspection.review_queue"))


@bp.get("/admin/testing-bodies")
@permission_required(PLATFORM)
def bodies() -> Any:
    return render_template(
        "inspection/bodies.html",
        bodies=services.testing_bodies(session=request_session()),
        families=load_ruleset().families,
        today=now().date(),
    )


@bp.get("/admin/testing-bodies/new")
@bp.get("/admin/testing-bodies/<int:body_id>")
@permission_required(PLATFORM)
def body_form(body_id: int | None = None) -> Any:
    if body_id is None:
        return _render_body({}, None)
    body = services.get_testing_body(session=request_session(), body_id=body_id)
    return _render_body(body.model_dump(mode="json"), body_id)


@bp.post("/admin/testing-bodies/new")
@bp.post("/admin/testing-bodies/<int:body_id>")
@permission_required(PLATFORM)
def save_body(body_id: int | None = None) -> Any:
    fields: dict[str, str | list[str]] = {key: request.form.get(key, "") for key in BODY_FIELDS}
    fields["scope"] = request.form.getlist("scope")
    try:
        services.save_testing_body(
            session=request_session(), actor=actor(), fields=fields, now=now(), body_id=body_id
        )
    except (ValidationFailed, Conflict) as exc:
        return form_again(
            "inspection/body_form.html",
            exc,
            values=fields,
            body_id=body_id,
            families=load_ruleset().families,
            name_zh_max=SEAL_NAME_MAX_CHARS,
        )
    return redirect(url_for("inspection.bodies"))


BODY_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "cma_no",
    "cnas_no",
    "cert_prefix",
    "accredited_from",
    "accredited_until",
)


def _render_body(values: dict[str, Any], body_id: int | None) -> str:
    return render_template(
        "inspection/body_form.html",
        values=values,
        body_id=body_id,
        families=load_ruleset().families,
        errors={},
        name_zh_max=SEAL_NAME_MAX_CHARS,
    )
