"""The analyst's measurements, the rules engine's judgement, and the reviewer's decision."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import LAB_TERMINAL, PLATFORM, authorize
from qc_app.db import write
from qc_app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.inspection import workflow
from qc_app.inspection.forms import choice_label
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.inspection.workflow import InspectionState
from qc_app.items import guards
from qc_app.items.models import Item
from qc_app.items.services import apply, get_item
from qc_app.items.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.rules import engine, pieces
from qc_app.units import cg_to_mass, clean_text, field_label


def stored_measurements(values: engine.Measurements) -> dict[str, str | bool]:
    """Decimals as exact strings: the same vocabulary as the API and the payload."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def _body_of(session: Session, actor: User) -> TestingBody:
    body = session.get(TestingBody, actor.testing_body_id) if actor.testing_body_id else None
    if body is None:
        raise Forbidden(msg("检测人员未关联检测机构"))
    return body


def record_inspection(
    *, session: Session, actor: User, code: str, raw: Mapping[str, Any], now: datetime
) -> Inspection:
    item = get_item(session=session, actor=actor, code=code)
    authorize(actor, LAB_TERMINAL)
    body = _body_of(session, actor)
    rules = engine.load_ruleset()
    family = rules.family_of(item.declared_material)
    listing = session.get(Listing, item.listing_id)
    declared_brand = listing.brand if listing else ""
    declared_text = " ".join([item.description, listing.title if listing else ""])
    if item.components and item.article_type:
        values, parts = pieces.validate_piece(rules, item.components, raw)
        judgement = pieces.judge_piece(
            rules,
            article_type=item.article_type,
            declared=item.components,
            declared_mass_g=cg_to_mass(item.declared_mass_cg),
            piece=values,
            parts=parts,
            declared_brand=declared_brand,
            declared_text=declared_text,
        )
        families = sorted({rules.family_of(c["material"]) for c in item.components})
    else:
        values = engine.validate(rules, family, raw)
        judgement = engine.judge(
            rules,
            declared_code=item.declared_material,
            declared_mass_g=cg_to_mass(item.declared_mass_cg),
            measurements=values,
            declared_brand=declared_brand,
            declared_text=declared_text,
        )
        families = [family]
    outside = [f for f in families if f not in body.scope]
    with write(session, item):
        if item.state == ItemState.RECEIVED:
            apply(session, item, "start_inspection", actor, now, testing_body=body.code)
        inspection = Inspection(
            item_id=item.id or 0,
            testing_body_id=body.id or 0,
            analyst_id=actor.id or 0,
            family=family,
            measurements=stored_measurements(values),
            material_code=judgement.material_code,
            material_name_zh=judgement.name_zh,
            material_name_en=judgement.name_en,
            verdict=judgement.verdict,
            reasons=[r.as_dict() for r in judgement.reasons],
            rule_version=judgement.rule_version,
            parts=[part.as_dict() for part in judgement.parts] or None,
            grading=judgement.grading,
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
            guards.LabResult(
                accredited=body.accredited_on(now.date()),
                in_scope=not outside,
                family=", ".join(outside or families),
            ),
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
        raise NotFound(msg("未找到检测记录"))
    return inspection, item


def _pending(
    session: Session, inspection_id: int, name: str, actor: User
) -> tuple[Inspection, Item]:
    inspection, item = get_inspection(session=session, inspection_id=inspection_id)
    workflow.MACHINE.check(inspection, name, actor)
    return inspection, item


def approve(*, session: Session, actor: User, inspection_id: int, now: datetime) -> Inspection:
    """四眼原则: a second person confirms the result; only then can a certificate follow."""
    inspection, item = _pending(session, inspection_id, "approve", actor)
    transition = "approve_pass" if inspection.verdict == "pass" else "approve_fail"
    review = _review(session, inspection, actor, now)
    # The item is read again under the lock: of parallel reviews one moves it, the rest are
    # refused by its transition.
    with write(session, item):
        workflow.MACHINE.transition(inspection, "approve", actor)
        inspection.reviewer_id = actor.id
        inspection.reviewed_at = now
        session.add(inspection)
        apply(
            session,
            item,
            transition,
            actor,
            now,
            review,
            inspection_id=inspection.id,
            verdict=inspection.verdict,
            reasons=[r["code"] for r in inspection.reasons if r["decisive"]],
        )
    return inspection


def send_back(
    *, session: Session, actor: User, inspection_id: int, note: str, now: datetime
) -> Inspection:
    inspection, item = _pending(session, inspection_id, "send_back", actor)
    review = _review(session, inspection, actor, now)
    facts = guards.SendBack(
        analyst_id=review.analyst_id,
        same_body=review.same_body,
        accredited=review.accredited,
        note=note,
    )
    with write(session, item):
        workflow.MACHINE.transition(inspection, "send_back", actor)
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
            facts,
            inspection_id=inspection.id,
            note=inspection.review_note,
        )
    return inspection


def _review(session: Session, inspection: Inspection, actor: User, now: datetime) -> guards.Review:
    """What the four-eyes guards need: who measured, and the reviewer's own lab."""
    body = session.get(TestingBody, inspection.testing_body_id)
    return guards.Review(
        analyst_id=inspection.analyst_id,
        same_body=actor.testing_body_id == inspection.testing_body_id,
        accredited=body is not None and body.accredited_on(now.date()),
    )


def inspections_of(*, session: Session, item: Item) -> list[Inspection]:
    query = select(Inspection).where(Inspection.item_id == item.id)
    return list(session.exec(query.order_by(Inspection.id)))  # type: ignore[arg-type]


def latest_approved(*, session: Session, item: Item) -> Inspection | None:
    query = select(Inspection).where(
        Inspection.item_id == item.id, Inspection.state == InspectionState.APPROVED
    )
    return session.exec(query.order_by(Inspection.id.desc())).first()  # type: ignore[union-attr]


def decisive_reasons(inspection: Inspection | None) -> list[engine.ReasonRecord]:
    """The reasons that decided the inspection's verdict."""
    if inspection is None:
        return []
    return [r for r in inspection.reasons if r["decisive"]]


def review_list() -> ListFound:
    """Inspections waiting for a second person, oldest first, with their item and its shop's
    name; found by item code, narrowed by declared material, shop and the item's day in."""
    query = (
        select(Inspection, Item, Merchant.name)
        .join(Item, col(Item.id) == col(Inspection.item_id))
        .join(Merchant, col(Merchant.id) == col(Item.merchant_id))
        .where(Inspection.state == InspectionState.SUBMITTED)
    )
    spec = ListSpec(
        key=col(Inspection.id),
        search=(col(Item.code), col(Merchant.name)),
        exact=(col(Item.code),),
        material=col(Item.declared_material),
        merchant=col(Item.merchant_id),
        when=col(Item.created_at),
        newest_first=False,
    )
    return spec, query


@dataclass(frozen=True)
class HistoryEntry:
    """One inspection of an item as the lab pages show it: who measured, who reviewed, why."""

    inspection: Inspection
    analyst: str
    reviewer: str | None
    reasons: list[engine.ReasonRecord]

    @property
    def id(self) -> int | None:
        return self.inspection.id


def history(*, session: Session, item: Item) -> list[HistoryEntry]:
    """Every inspection of the item, oldest first: retests add entries, nothing is replaced."""
    entries = []
    for found in inspections_of(session=session, item=item):
        analyst = session.get(User, found.analyst_id)
        reviewer = session.get(User, found.reviewer_id) if found.reviewer_id else None
        entries.append(
            HistoryEntry(
                inspection=found,
                analyst=analyst.display_name if analyst else "?",
                reviewer=reviewer.display_name if reviewer else None,
                reasons=found.reasons,
            )
        )
    return entries


def labelled_measurements(inspection: Inspection, lang: str) -> list[tuple[str, str]]:
    """(label, value) in the form's order, labelled by the rule version that judged them."""
    rules = engine.load_ruleset(inspection.rule_version)
    fields = rules.fields(inspection.family)
    values = inspection.measurements
    out = []
    for key, spec in fields.items():
        if key not in values:
            continue
        label = spec["label_zh"] if lang != "en" else spec["label_en"]
        value = values[key]
        if isinstance(value, bool):
            shown = (msg("是") if value else msg("否")).render(lang)
        elif spec["type"] == "choice":
            shown = choice_label(rules, key, spec, str(value), lang != "en")
        else:
            shown = f"{value} {spec['unit']}".strip()
        out.append((label, shown))
    return out


# --- testing bodies (admin) ------------------------------------------------------------------

CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,16}$")
PREFIX_PATTERN = re.compile(r"^[A-Z]{2,6}$")


def testing_bodies(*, session: Session) -> list[tuple[TestingBody, list[User]]]:
    """Each body with its analysts and reviewers."""
    bodies = session.exec(select(TestingBody).order_by(TestingBody.code)).all()
    staff = session.exec(select(User).where(User.testing_body_id.is_not(None))).all()  # type: ignore[union-attr]
    return [(body, [u for u in staff if u.testing_body_id == body.id]) for body in bodies]


def get_testing_body(*, session: Session, body_id: int) -> TestingBody:
    body = session.get(TestingBody, body_id)
    if body is None:
        raise NotFound(msg("未找到检测机构"))
    return body


def save_testing_body(
    *,
    session: Session,
    actor: User,
    fields: Mapping[str, Any],
    now: datetime,
    body_id: int | None = None,
) -> TestingBody:
    """Create or change a testing body: accreditation numbers, validity, scope."""
    authorize(actor, PLATFORM)
    values = _body_values(session, fields, body_id)
    if body_id is None:
        body, before = TestingBody(**values), None
    else:
        body = get_testing_body(session=session, body_id=body_id)
        before = body.model_dump(mode="json")
        for key, value in values.items():
            setattr(body, key, value)
    with write(session):
        session.add(body)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="testing_body_saved",
            entity="testing_body",
            entity_id=body.id or 0,
            at=now,
            before=before,
            after=body.model_dump(mode="json"),
        )
    return body


def _body_values(
    session: Session, fields: Mapping[str, Any], body_id: int | None
) -> dict[str, Any]:
    code = clean_text(fields.get("code"), "code", required=True, max_length=16).upper()
    prefix = clean_text(fields.get("cert_prefix"), "cert_prefix", required=True, max_length=6)
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(msg("机构代码须为 2–16 位大写字母或数字"))
    if not PREFIX_PATTERN.match(prefix.upper()):
        raise ValidationFailed(msg("证书前缀须为 2–6 位大写字母"))
    for column, value in (("code", code), ("cert_prefix", prefix.upper())):
        clash = session.exec(
            select(TestingBody).where(getattr(TestingBody, column) == value)
        ).first()
        if clash is not None and clash.id != body_id:
            raise Conflict(msg("{column} {value} 已被使用", column=column, value=value))
    valid_from = _date(fields.get("accredited_from"), "accredited_from", required=False)
    valid_until = _date(fields.get("accredited_until"), "accredited_until", required=True)
    if valid_from is not None and valid_until is not None and valid_from > valid_until:
        raise ValidationFailed(msg("资质有效期起始晚于截止"))
    families = engine.load_ruleset().families
    scope = sorted(set(fields.get("scope") or []))
    if not scope or not set(scope) <= set(families):
        raise ValidationFailed(
            msg(
                "资质范围须为以下类别中的一个或多个：{families_zh}",
                families_zh="、".join(families),
                families_en=", ".join(families),
            ),
        )
    return {
        "code": code,
        "name_zh": clean_text(fields.get("name_zh"), "name_zh", required=True, max_length=100),
        "name_en": clean_text(fields.get("name_en"), "name_en", required=True, max_length=120),
        # CMA is the legal licence to publish results (检验检测机构资质认定): never optional.
        "cma_no": clean_text(fields.get("cma_no"), "cma_no", required=True, max_length=40),
        "cnas_no": clean_text(fields.get("cnas_no"), "cnas_no", required=False, max_length=40)
        or None,
        "cert_prefix": prefix.upper(),
        "accredited_from": valid_from,
        "accredited_until": valid_until,
        "scope": scope,
    }


def _date(value: object, field: str, *, required: bool) -> date | None:
    text = clean_text(value, field, required=required, max_length=10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            msg("{field} 须为日期（YYYY-MM-DD）", field=field_label(field))
        ) from None
