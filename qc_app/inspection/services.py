"""The analyst's measurements, the rules engine's judgement, and the reviewer's decision."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import LAB_TERMINAL, PLATFORM, authorize, refusal
from qc_app.db import write
from qc_app.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from qc_app.i18n import Message, msg
from qc_app.inspection import workflow
from qc_app.inspection.forms import choice_label
from qc_app.inspection.models import SEAL_NAME_MAX_CHARS, Inspection, TestingBody
from qc_app.inspection.workflow import InspectionState
from qc_app.items import guards
from qc_app.items.models import Item
from qc_app.items.services import apply, get_item
from qc_app.items.workflow import MACHINE as ITEMS
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


@dataclass(frozen=True)
class Preview:
    """What recording the typed readings would store, judged by the rules and not saved: the
    name the certificate would carry, the verdict and its reasons (per component for a set
    piece). The analyst confirms it; `preview_digest` ties the confirmation to exactly this."""

    item: Item
    body: TestingBody
    family: str
    values: engine.Measurements
    judgement: engine.Judgement
    lab_result: guards.LabResult


def preview_inspection(
    *, session: Session, actor: User, code: str, raw: Mapping[str, Any], now: datetime
) -> Preview:
    """Judge what was typed exactly as recording would, and refuse what recording would refuse;
    nothing is written (no row, no audit event, the item stays where it is)."""
    item = get_item(session=session, actor=actor, code=code)
    authorize(actor, LAB_TERMINAL)
    body = _body_of(session, actor)
    rules = engine.load_ruleset()
    family = rules.family_of(item.declared_material)
    listing = session.get(Listing, item.listing_id)
    declared_brand = listing.brand if listing else ""
    declared_text = " ".join([item.description, listing.title if listing else ""])
    if item.components and item.article_type:
        values, parts, groups = pieces.validate_piece(rules, item.components, raw)
        judgement = pieces.judge_piece(
            rules,
            article_type=item.article_type,
            declared=item.components,
            declared_mass_g=cg_to_mass(item.declared_mass_cg),
            piece=values,
            parts=parts,
            groups=groups,
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
    lab_result = guards.LabResult(
        accredited=body.accredited_on(now.date()),
        in_scope=not outside,
        family=", ".join(outside or families),
    )
    # Refused now rather than after the analyst confirmed: the same checks recording runs.
    if item.state == ItemState.RECEIVED:
        ITEMS.check(item, "start_inspection", actor)
        guards.guard_submit_result(item, actor, lab_result)
    else:
        ITEMS.check(item, "submit_result", actor, lab_result)
    return Preview(item, body, family, values, judgement, lab_result)


def preview_digest(preview: Preview, *, actor: User, key: bytes) -> str:
    """HMAC of what a confirmation records: the item, the analyst, the rule version, the
    readings and the judgement. A changed reading, declaration or rule version changes it."""
    judged = preview.judgement
    canonical = {
        "item": preview.item.code,
        "analyst": actor.id,
        "rule_version": judged.rule_version,
        "measurements": stored_measurements(preview.values),
        "material": [judged.material_code, judged.name_zh, judged.name_en],
        "verdict": judged.verdict,
        "reasons": [r.as_dict() for r in judged.reasons],
        "parts": [part.as_dict() for part in judged.parts],
        "grading": judged.grading,
    }
    data = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(key, data.encode("utf-8"), "sha256").hexdigest()


def confirm_inspection(
    *,
    session: Session,
    actor: User,
    code: str,
    raw: Mapping[str, Any],
    digest: str,
    key: bytes,
    now: datetime,
) -> Inspection:
    """Record exactly what the analyst was shown: judged again, and refused if anything that
    decides the certificate differs from the preview `digest` was made of."""
    preview = preview_inspection(session=session, actor=actor, code=code, raw=raw, now=now)
    expected = preview_digest(preview, actor=actor, key=key)
    if not hmac.compare_digest(expected.encode(), digest.encode()):
        raise Conflict(
            msg("预览之后测量值或判定有变化，未记录：请核对新的预览后再确认"),
            code="preview_changed",
        )
    return _record(session, actor, preview, now)


def record_inspection(
    *, session: Session, actor: User, code: str, raw: Mapping[str, Any], now: datetime
) -> Inspection:
    """Judge and record in one step (the API: a system that sends readings has no preview)."""
    preview = preview_inspection(session=session, actor=actor, code=code, raw=raw, now=now)
    return _record(session, actor, preview, now)


def _record(session: Session, actor: User, preview: Preview, now: datetime) -> Inspection:
    item, judgement, values = preview.item, preview.judgement, preview.values
    with write(session, item):
        if item.state == ItemState.RECEIVED:
            apply(session, item, "start_inspection", actor, now, testing_body=preview.body.code)
        inspection = Inspection(
            item_id=item.id or 0,
            testing_body_id=preview.body.id or 0,
            analyst_id=actor.id or 0,
            family=preview.family,
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
            preview.lab_result,
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
    # Item and result are read again under the lock: of parallel reviews (or a review and the
    # analyst's withdrawal) one moves them, the rest are refused by the transitions.
    with write(session, item, inspection):
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


def withdraw(*, session: Session, actor: User, inspection_id: int, now: datetime) -> Inspection:
    """The analyst takes back a result not yet reviewed: the row is kept, marked withdrawn (the
    history shows it), and the item is back in the lab to be measured again. One audit event."""
    inspection, item = _pending(session, inspection_id, "withdraw", actor)
    with write(session, item, inspection):
        workflow.MACHINE.transition(inspection, "withdraw", actor)
        session.add(inspection)
        apply(
            session,
            item,
            "withdraw_result",
            actor,
            now,
            guards.Authorship(analyst_id=inspection.analyst_id),
            inspection_id=inspection.id,
            verdict=inspection.verdict,
        )
    return inspection


@dataclass(frozen=True)
class Offer:
    """What a page may offer on one result: each action's refusal, None where it is allowed."""

    approve: Message | None
    send_back: Message | None
    withdraw: Message | None

    @property
    def may_approve(self) -> bool:
        return self.approve is None

    @property
    def may_send_back(self) -> bool:
        return self.send_back is None

    @property
    def may_withdraw(self) -> bool:
        return self.withdraw is None


def offers(
    *, session: Session, actor: User, inspection: Inspection, item: Item, now: datetime
) -> Offer:
    """The buttons a page shows for `inspection`: the same checks the actions run (authz via
    the transition tables, the four-eyes and authorship guards), asked before, changing nothing."""
    review = _review(session, inspection, actor, now)
    verdict = "approve_pass" if inspection.verdict == "pass" else "approve_fail"

    def approving() -> None:
        workflow.MACHINE.check(inspection, "approve", actor)
        ITEMS.check(item, verdict, actor, review)

    def sending_back() -> None:
        workflow.MACHINE.check(inspection, "send_back", actor)
        facts = guards.SendBack(review.analyst_id, review.same_body, review.accredited, None)
        ITEMS.check(item, "send_back", actor, facts)

    def withdrawing() -> None:
        workflow.MACHINE.check(inspection, "withdraw", actor)
        ITEMS.check(item, "withdraw_result", actor, guards.Authorship(inspection.analyst_id))

    return Offer(refusal(approving), refusal(sending_back), refusal(withdrawing))


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


def awaiting_review_by(
    *, session: Session, actor: User, limit: int = 200
) -> list[tuple[Inspection, Item]]:
    """The actor's own results not yet reviewed: what they may still withdraw."""
    query = (
        select(Inspection, Item)
        .join(Item, Item.id == Inspection.item_id)  # type: ignore[arg-type]
        .where(Inspection.state == InspectionState.SUBMITTED, Inspection.analyst_id == actor.id)
        .order_by(col(Inspection.id))
    )
    return [(i, it) for i, it in session.exec(query.limit(limit))]


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
        search=(col(Merchant.name),),
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


Readings = list[tuple[str, str]]


@dataclass(frozen=True)
class ResultView:
    """A result as the lab's pages list it (preview and review alike): the whole piece's
    readings, then each component as judged (a set piece) with its own readings."""

    readings: Readings
    parts: list[tuple[engine.PartRecord, Readings]]


def result_view(inspection: Inspection, lang: str) -> ResultView:
    """What the reviewer approves, labelled by the rule version that judged it."""
    rules = engine.load_ruleset(inspection.rule_version)
    return _view(rules, inspection.family, inspection.measurements, inspection.parts, lang)


def _view(
    rules: engine.RuleSet,
    family: str,
    values: Mapping[str, Any],
    parts: list[engine.PartRecord] | None,
    lang: str,
) -> ResultView:
    if not parts:
        return ResultView(labelled(rules, rules.fields(family), values, lang), [])
    return ResultView(
        labelled(rules, pieces.piece_fields(rules), values, lang),
        [
            (
                part,
                labelled(
                    rules,
                    pieces.part_fields(rules, part["declared"]["material"]),
                    part["measured"],
                    lang,
                ),
            )
            for part in parts
        ],
    )


def labelled(
    rules: engine.RuleSet,
    fields: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, Any],
    lang: str,
) -> list[tuple[str, str]]:
    """Readings as a page lists them: (label, value with its unit or its choice's name)."""
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


def preview_view(preview: Preview, lang: str) -> ResultView:
    """The preview lists what recording would store, as the review page will show it."""
    rules = engine.load_ruleset(preview.judgement.rule_version)
    parts = [part.as_dict() for part in preview.judgement.parts] or None
    return _view(rules, preview.family, stored_measurements(preview.values), parts, lang)


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
    """The form's values checked, every field's problem named at once (FieldErrors)."""
    errors = FieldErrors()

    def text(field: str, *, required: bool, max_length: int) -> str:
        found = errors.take(
            field, clean_text, fields.get(field), field, required=required, max_length=max_length
        )
        return found or ""

    code = text("code", required=True, max_length=16).upper()
    prefix = text("cert_prefix", required=True, max_length=6).upper()
    if code and not CODE_PATTERN.match(code):
        errors.add("code", msg("机构代码须为 2–16 位大写字母或数字"))
    if prefix and not PREFIX_PATTERN.match(prefix):
        errors.add("cert_prefix", msg("证书前缀须为 2–6 位大写字母"))
    for column, value in (("code", code), ("cert_prefix", prefix)):
        if not value:
            continue
        clash = session.exec(
            select(TestingBody).where(getattr(TestingBody, column) == value)
        ).first()
        if clash is not None and clash.id != body_id:
            errors.add(
                column, msg("{column} {value} 已被使用", column=field_label(column), value=value)
            )
    valid_from = errors.take(
        "accredited_from", _date, fields.get("accredited_from"), "accredited_from", required=False
    )
    valid_until = errors.take(
        "accredited_until", _date, fields.get("accredited_until"), "accredited_until", required=True
    )
    if valid_from is not None and valid_until is not None and valid_from > valid_until:
        errors.add("accredited_from", msg("资质有效期起始晚于截止"))
    families = engine.load_ruleset().families
    scope = sorted(set(fields.get("scope") or []))
    if not scope:
        errors.add("scope", msg("请至少选择一个资质范围"))
    elif not set(scope) <= set(families):
        errors.add(
            "scope",
            msg(
                "资质范围须为以下类别中的一个或多个：{families_zh}",
                families_zh="、".join(families),
                families_en=", ".join(families),
            ),
        )
    name_zh = text("name_zh", required=True, max_length=100)
    if len(name_zh) > SEAL_NAME_MAX_CHARS:
        # The seal prints the name round its ring: a longer one comes out too small to read.
        errors.add(
            "name_zh",
            msg(
                "中文名称最多 {limit} 个字（现有 {count} 个）：印章上的名称会小得看不清",
                limit=SEAL_NAME_MAX_CHARS,
                count=len(name_zh),
            ),
        )
    values = {
        "code": code,
        "name_zh": name_zh,
        "name_en": text("name_en", required=True, max_length=120),
        # CMA is the legal licence to publish results (检验检测机构资质认定): never optional.
        "cma_no": text("cma_no", required=True, max_length=40),
        "cnas_no": text("cnas_no", required=False, max_length=40) or None,
        "cert_prefix": prefix,
        "accredited_from": valid_from,
        "accredited_until": valid_until,
        "scope": scope,
    }
    errors.check()
    return values


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
