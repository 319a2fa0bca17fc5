"""The analyst's measurements, the rules engine's judgement, and the reviewer's decision."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from qc_app.auth.models import User
from qc_app.db import write
from qc_app.errors import Conflict, Forbidden, not_found
from qc_app.inspection.models import Inspection, InspectionState, TestingBody
from qc_app.intake.models import Item
from qc_app.intake.services import apply, get_item
from qc_app.intake.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.rules import engine
from qc_app.units import cg_to_mass


def measurements_json(values: engine.Measurements) -> str:
    """Stored as exact strings: the same vocabulary as the API and the payload."""
    return json.dumps(
        {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()},
        sort_keys=True,
        ensure_ascii=False,
    )


def _body_of(session: Session, actor: User) -> TestingBody:
    body = session.get(TestingBody, actor.testing_body_id) if actor.testing_body_id else None
    if body is None:
        raise Forbidden("检测人员未关联检测机构", "the analyst belongs to no testing body")
    return body


def record_inspection(
    *, session: Session, actor: User, code: str, raw: Mapping[str, Any], now: datetime
) -> Inspection:
    item = get_item(session=session, actor=actor, code=code)
    if actor.role not in ("analyst", "reviewer"):
        raise Forbidden("只有检测员可以录入检测结果", "only analysts record inspections")
    body = _body_of(session, actor)
    rules = engine.load_ruleset()
    family = rules.family_of(item.declared_material)
    values = engine.validate(rules, family, raw)
    listing = session.get(Listing, item.listing_id)
    judgement = engine.judge(
        rules,
        declared_code=item.declared_material,
        declared_mass_g=cg_to_mass(item.declared_mass_cg),
        measurements=values,
        declared_brand=listing.brand if listing else "",
        declared_text=" ".join([item.description, listing.title if listing else ""]),
    )
    with write(session):
        if item.state == ItemState.RECEIVED:
            apply(session, item, "start_inspection", actor, now, testing_body=body.code)
        inspection = Inspection(
            item_id=item.id or 0,
            testing_body_id=body.id or 0,
            analyst_id=actor.id or 0,
            family=family,
            measurements=measurements_json(values),
            material_code=judgement.material_code,
            material_name_zh=judgement.name_zh,
            material_name_en=judgement.name_en,
            verdict=judgement.verdict,
            reasons=json.dumps([r.as_dict() for r in judgement.reasons], ensure_ascii=False),
            rule_version=judgement.rule_version,
            state=InspectionState.SUBMITTED,
            created_at=now,
        )
        session.add(inspection)
        session.flush()
        apply(
            session,
            item,
            "submit_result",
            actor,
            now,
            {
                "accredited": body.accredited_on(now.date()),
                "in_scope": family in body.families,
                "family": family,
            },
            inspection_id=inspection.id,
            material=judgement.material_code,
            verdict=judgement.verdict,
            rule_version=judgement.rule_version,
            mass_g=str(values.get("mass_g", "")),
        )
    return inspection


def get_inspection(*, session: Session, inspection_id: int) -> tuple[Inspection, Item]:
    inspection = session.get(Inspection, inspection_id)
    item = session.get(Item, inspection.item_id) if inspection else None
    if inspection is None or item is None:
        raise not_found("检测记录", "inspection")
    return inspection, item


def _pending(session: Session, inspection_id: int) -> tuple[Inspection, Item]:
    inspection, item = get_inspection(session=session, inspection_id=inspection_id)
    if inspection.state != InspectionState.SUBMITTED:
        raise Conflict("该检测结果已审核", "this inspection has already been reviewed")
    return inspection, item


def approve(*, session: Session, actor: User, inspection_id: int, now: datetime) -> Inspection:
    """四眼原则: a second person confirms the result; only then can a certificate follow."""
    inspection, item = _pending(session, inspection_id)
    transition = "approve_pass" if inspection.verdict == "pass" else "approve_fail"
    context = _review_context(session, inspection, actor, now)
    with write(session):
        inspection.state = InspectionState.APPROVED
        inspection.reviewer_id = actor.id
        inspection.reviewed_at = now
        session.add(inspection)
        apply(
            session,
            item,
            transition,
            actor,
            now,
            context,
            inspection_id=inspection.id,
            verdict=inspection.verdict,
            reasons=[r["code"] for r in json.loads(inspection.reasons) if r["decisive"]],
        )
    return inspection


def send_back(
    *, session: Session, actor: User, inspection_id: int, note: str, now: datetime
) -> Inspection:
    inspection, item = _pending(session, inspection_id)
    context = {**_review_context(session, inspection, actor, now), "note": note}
    with write(session):
        inspection.state = InspectionState.SENT_BACK
        inspection.reviewer_id = actor.id
        inspection.reviewed_at = now
        inspection.review_note = note.strip()[:500]
        session.add(inspection)
        apply(
            session,
            item,
            "send_back",
            actor,
            now,
            context,
            inspection_id=inspection.id,
            note=inspection.review_note,
        )
    return inspection


def _review_context(
    session: Session, inspection: Inspection, actor: User, now: datetime
) -> dict[str, Any]:
    """What the four-eyes guards need: who measured, and the reviewer's own lab."""
    body = session.get(TestingBody, inspection.testing_body_id)
    return {
        "analyst_id": inspection.analyst_id,
        "same_body": actor.testing_body_id == inspection.testing_body_id,
        "accredited": body is not None and body.accredited_on(now.date()),
    }


def inspections_of(*, session: Session, item: Item) -> list[Inspection]:
    query = select(Inspection).where(Inspection.item_id == item.id)
    return list(session.exec(query.order_by(Inspection.id)))  # type: ignore[arg-type]


def latest_approved(*, session: Session, item: Item) -> Inspection | None:
    query = select(Inspection).where(
        Inspection.item_id == item.id, Inspection.state == InspectionState.APPROVED
    )
    return session.exec(query.order_by(Inspection.id.desc())).first()  # type: ignore[union-attr]


def review_queue(*, session: Session, limit: int = 200) -> list[tuple[Inspection, Item]]:
    query = (
        select(Inspection, Item)
        .join(Item, Item.id == Inspection.item_id)  # type: ignore[arg-type]
        .where(Inspection.state == InspectionState.SUBMITTED)
        .order_by(Inspection.id)
    )
    return [(i, it) for i, it in session.exec(query.limit(limit))]
