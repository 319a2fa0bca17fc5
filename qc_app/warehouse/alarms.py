"""Warehouse alarms: raised inside the transaction that found the problem, cleared by an admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import CLEAR_ALARMS, authorize
from qc_app.errors import Conflict, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.outbox.events import emit
from qc_app.warehouse.models import Alarm


def raise_alarm(
    session: Session,
    *,
    actor: User,
    item_id: int,
    item_code: str,
    merchant_id: int,
    kind: str,
    station: str,
    detail: dict[str, Any],
    now: datetime,
) -> Alarm:
    alarm = Alarm(
        item_id=item_id,
        kind=kind,
        station=station[:40],
        detail=detail,
        raised_by_id=actor.id or 0,
        raised_at=now,
    )
    session.add(alarm)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alarm_raised",
        entity="item",
        entity_id=item_code,
        at=now,
        alarm_id=alarm.id,
        kind=kind,
        station=station,
        **detail,
    )
    emit(
        session,
        type="alarm.raised",
        subject=f"item:{item_code}",
        merchant_id=merchant_id,
        at=now,
        alarm_id=alarm.id,
        item_code=item_code,
        kind=kind,
        station=station,
        **detail,
    )
    return alarm


def open_alarms(session: Session, *, item_id: int) -> list[Alarm]:
    """The item's alarms not yet cleared (the dashboard lists every item's in dashboard.stats)."""
    query = select(Alarm).where(col(Alarm.cleared_at).is_(None), Alarm.item_id == item_id)
    return list(session.exec(query.order_by(col(Alarm.id))))


def alarms_of(session: Session, *, item_id: int) -> list[Alarm]:
    return list(session.exec(select(Alarm).where(Alarm.item_id == item_id).order_by(col(Alarm.id))))


def clear(session: Session, *, actor: User, alarm_id: int, note: str, now: datetime) -> Alarm:
    """Mark the alarm cleared inside the caller's transaction (the caller releases the hold)."""
    authorize(actor, CLEAR_ALARMS)
    note = note.strip()
    if not note:
        raise ValidationFailed(msg("解除警报需要说明"))
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(msg("未找到警报"))
    if alarm.cleared_at is not None:
        raise Conflict(msg("警报已解除"), code="illegal_transition")
    alarm.cleared_by_id = actor.id
    alarm.cleared_at = now
    alarm.clear_note = note[:300]
    session.add(alarm)
    return alarm
