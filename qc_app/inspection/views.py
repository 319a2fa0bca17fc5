from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from qc_app.db import request_session
from qc_app.inspection import services
from qc_app.intake.services import get_item, items_in
from qc_app.intake.workflow import ItemState
from qc_app.rules.engine import load_ruleset
from qc_app.units import cg_to_mass
from qc_app.web import actor, now, roles_required

bp = Blueprint("inspection", __name__)
LAB = ("analyst", "reviewer")


@bp.get("/lab")
@roles_required(*LAB)
def lab() -> Any:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("inspection.form", code=code))
    queue = items_in(
        session=request_session(), states=[ItemState.RECEIVED, ItemState.IN_INSPECTION]
    )
    return render_template("inspection/lab.html", queue=queue)


@bp.get("/lab/<code>")
@roles_required(*LAB)
def form(code: str) -> Any:
    db = request_session()
    item = get_item(session=db, actor=actor(), code=code)
    rules = load_ruleset()
    return render_template(
        "inspection/form.html",
        item=item,
        fields=rules.fields(rules.family_of(item.declared_material)),
        declared=rules.declaration(item.declared_material),
        history=services.inspections_of(session=db, item=item),
        declared_mass=cg_to_mass(item.declared_mass_cg),
    )


@bp.post("/lab/<code>")
@roles_required(*LAB)
def record(code: str) -> Any:
    raw = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    services.record_inspection(
        session=request_session(), actor=actor(), code=code, raw=raw, now=now()
    )
    return redirect(url_for("inspection.lab", done=code))


@bp.get("/review")
@roles_required("reviewer")
def review_queue() -> Any:
    return render_template(
        "inspection/review_queue.html", queue=services.review_queue(session=request_session())
    )


@bp.get("/review/<int:inspection_id>")
@roles_required("reviewer")
def review(inspection_id: int) -> Any:
    inspection, item = services.get_inspection(
        session=request_session(), inspection_id=inspection_id
    )
    return render_template(
        "inspection/review.html",
        inspection=inspection,
        item=item,
        measurements=json.loads(inspection.measurements),
        reasons=json.loads(inspection.reasons),
        declared_mass=cg_to_mass(item.declared_mass_cg),
    )


@bp.post("/review/<int:inspection_id>/approve")
@roles_required("reviewer")
def approve(inspection_id: int) -> Any:
    services.approve(
        session=request_session(), actor=actor(), inspection_id=inspection_id, now=now()
    )
    return redirect(url_for("inspection.review_queue"))


@bp.post("/review/<int:inspection_id>/send-back")
@roles_required("reviewer")
def send_back(inspection_id: int) -> Any:
    services.send_back(
        session=request_session(),
        actor=actor(),
        inspection_id=inspection_id,
        note=request.form.get("note", ""),
        now=now(),
    )
    return redirect(url_for("inspection.review_queue"))
