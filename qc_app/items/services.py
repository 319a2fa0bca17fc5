"""Item-level services: run a transition, find an item, hold and release it, its timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit, lifecycle
from qc_app.auth.models import User
from qc_app.authz import CLEAR_ALARMS, SEE_ALARMS, allows, ensure_visible
from qc_app.codes import normalize
from qc_app.db import write
from qc_app.errors import Conflict, FieldErrors, Forbidden, NotFound
from qc_app.i18n import Message, msg
from qc_app.items import guards, proof, workflow
from qc_app.items.models import Item, Photo
from qc_app.items.workflow import ItemChange, ItemState
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.outbox.events import emit
from qc_app.statemachine import NO_FACTS
from qc_app.uploads import CleanImage
from qc_app.warehouse import alarms


def photo_row(
    item: Item,
    image: CleanImage,
    sha256: str,
    kind: str,
    actor: User,
    now: datetime,
    *,
    view: str | None = None,
) -> Photo:
    """The row of a stored, cleaned photo of the item (merchant, intake or packing; an intake
    photo's view in a complete set: front, back, stamp, detail)."""
    return Photo(
        item_id=item.id or 0,
        sha256=sha256,
        original_sha256=image.original_sha256,
        kind=kind,
        view=view,
        width=image.width,
        height=image.height,
        created_by_id=actor.id or 0,
        created_at=now,
    )


def apply(
    session: Session,
    item: Item,
    name: str,
    actor: User,
    now: datetime,
    facts: object = NO_FACTS,
    **details: Any,
) -> ItemChange:
    """Run one item transition and append its audit event, inside the caller's transaction;
    the hooks connected at start-up react in the same transaction (a failed item cancels its
    order)."""
    return lifecycle.apply(
        session,
        workflow.MACHINE,
        item,
        name,
        actor=actor,
        now=now,
        entity="item",
        entity_id=item.code,
        facts=facts,
        **details,
    )


def get_item(*, session: Session, actor: User, code: str) -> Item:
    item = session.exec(select(Item).where(Item.code == normalize(code))).first()
    if item is None:
        raise NotFound(msg("未找到物品 {code}", code=code))
    ensure_visible(actor, item.merchant_id, msg("未找到物品 {code}", code=code))
    return item


def items_in(*, session: Session, states: Sequence[ItemState], limit: int = 200) -> list[Item]:
    query = select(Item).where(Item.state.in_([s.value for s in states]))  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(Item.id).limit(limit)))  # type: ignore[arg-type]


def item_list(states: Sequence[ItemState]) -> ListFound:
    """A work queue of items in `states` (to certify, to inspect, to send back), oldest first,
    each with its shop's name; found by item code, narrowed by state (when the queue holds
    more than one), material, shop and the day the item was declared."""
    query = (
        select(Item, Merchant.name)
        .join(Merchant, col(Merchant.id) == col(Item.merchant_id))
        .where(col(Item.state).in_([s.value for s in states]))
    )
    spec = ListSpec(
        key=col(Item.id),
        search=(col(Merchant.name),),
        exact=(col(Item.code),),
        state=col(Item.state) if len(states) > 1 else None,
        states=tuple(states),
        state_kind="item",
        material=col(Item.declared_material),
        merchant=col(Item.merchant_id),
        when=col(Item.created_at),
        newest_first=False,
    )
    return spec, query


def hold(
    session: Session,
    actor: User,
    item: Item,
    reason: Message | str,
    now: datetime,
    *,
    station: str = "",
) -> None:
    """Put the item on hold with the reason, inside the caller's transaction: a discrepancy at
    intake, an extra or missing item, a mass drift at packing (a Message, recorded in both
    languages), or a hold by hand (the person's own words)."""
    said = reason if isinstance(reason, str) else reason.render("zh")
    reason_en = "" if isinstance(reason, str) else reason.render("en")
    item.hold_reason = said.strip()[:200]
    apply(
        session,
        item,
        "hold",
        actor,
        now,
        guards.Reason(item.hold_reason),
        reason=item.hold_reason,
        reason_en=reason_en[:300],
        station=station,
    )


def item_photos(*, session: Session, item: Item) -> list[Photo]:
    query = select(Photo).where(Photo.item_id == item.id)
    return list(session.exec(query.order_by(Photo.id)))  # type: ignore[arg-type]


def proof_photos(photos: Sequence[Photo]) -> dict[str, Photo]:
    """The intake set by view (front, back, stamp, detail): the latest of each view, in the
    order the views are taken; empty for an item received without a set."""
    latest = {p.view: p for p in photos if p.kind == "intake" and p.view}
    return {view: latest[view] for view in proof.views() if view in latest}


def hold_item(*, session: Session, actor: User, code: str, reason: str, now: datetime) -> Item:
    item = get_item(session=session, actor=actor, code=code)
    with write(session, item):
        hold(session, actor, item, reason, now)
    return item


def release_item(
    *, session: Session, actor: User, code: str, now: datetime, note: str = ""
) -> Item:
    """The hold ends; `note` (why it may: the page asks for one) goes into the audit event."""
    item = get_item(session=session, actor=actor, code=code)
    if alarms.open_alarms(session, item_id=item.id or 0):
        # The hold ends when the alarm is cleared with a note, never around it.
        if not allows(actor, CLEAR_ALARMS):
            raise Forbidden(
                msg("该物品有未解除的警报，只有主管可以处理"),
            )
        raise Conflict(
            msg("请在看板上复核并解除警报，挂起随之解除"),
            code="alarm_open",
        )
    with write(session, item):
        item.hold_reason = None
        details = {"note": note.strip()[:500]} if note.strip() else {}
        apply(session, item, "release", actor, now, **details)
    return item


def return_shipped(
    *, session: Session, actor: User, code: str, waybill_no: str, now: datetime
) -> Item:
    item = get_item(session=session, actor=actor, code=code)
    errors = FieldErrors()
    if not waybill_no.strip():
        errors.add("waybill_no", msg("请填写退货运单号"))
    errors.check()
    with write(session, item):
        item.return_waybill_no = waybill_no.strip()[:40]
        apply(session, item, "return_shipped", actor, now, waybill_no=item.return_waybill_no)
    return item


def clear_alarm(*, session: Session, actor: User, alarm_id: int, note: str, now: datetime) -> Item:
    """A supervisor (admin) checked the piece: the alarm is cleared and the hold it caused ends."""
    with write(session):
        alarm = alarms.clear(session, actor=actor, alarm_id=alarm_id, note=note, now=now)
        item = session.get(Item, alarm.item_id)
        if item is None:
            raise NotFound(msg("未找到物品"))
        audit.record(
            session,
            actor=actor,
            action="alarm_cleared",
            entity="item",
            entity_id=item.code,
            at=now,
            alarm_id=alarm.id,
            note=alarm.clear_note,
        )
        emit(
            session,
            type="alarm.cleared",
            subject=f"item:{item.code}",
            merchant_id=item.merchant_id,
            at=now,
            alarm_id=alarm.id,
            item_code=item.code,
            kind=alarm.kind,
        )
        # The cleared alarm is flushed before the query (autoflush); the filter keeps it so.
        others = [a for a in alarms.open_alarms(session, item_id=item.id or 0) if a.id != alarm.id]
        if item.state == ItemState.ON_HOLD and not others:
            item.hold_reason = None
            apply(session, item, "release", actor, now, alarm_id=alarm.id)
    return item


def timeline(*, session: Session, actor: User, code: str) -> tuple[Item, list[audit.AuditEvent]]:
    """The item's audit events; a merchant does not see the warehouse's alarms."""
    item = get_item(session=session, actor=actor, code=code)
    events = audit.history(session, entity="item", entity_id=item.code)
    if not allows(actor, SEE_ALARMS):
        events = [e for e in events if not e.action.startswith("alarm_")]
    return item, events
