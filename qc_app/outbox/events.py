"""Writing events, and putting them in commit order.

`emit` adds the event to the caller's transaction: it is stored if and only if the change it
reports commits. An autoincrement id is not commit order on PostgreSQL (a transaction that took
id 7 may commit after one that took id 8), so readers never page on it. As the audit chain
does (audit.sequence), one sequencer at a time (an advisory lock on PostgreSQL, the single
writer on SQLite) gives each committed event not yet sequenced the next `position`, in id order,
and in the same transaction queues a delivery for every active subscription that wants it. An
event committed late gets a later position than everything already sequenced, so a reader of
`position > cursor` never skips it. Chosen over "expose only rows older than the oldest running
transaction" (pg_snapshot_xmin): that needs a PostgreSQL-only column and stalls every reader
behind one long transaction; the sequencer is the same on both databases and is already how the
audit chain works.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from qc_app.db import write
from qc_app.outbox.models import Delivery, OutboxEvent, Subscription

SEQUENCER_LOCK = 727102
BATCH = 500
# Set on a session that added an event: after its commit the workers are woken (outbox.tasks).
PENDING = "qc_outbox_pending"

# Every type the platform can subscribe to, and what it means.
EVENT_TYPES: Mapping[str, str] = {
    "certificate.issued": "a certificate was issued for an item",
    "certificate.revoked": "a certificate was revoked (with the reason)",
    "certificate.superseded": "a certificate was replaced by a new one",
    "item.received": "the warehouse received an item",
    "item.held": "an item was put on hold",
    "item.released": "an item on hold was released",
    "item.failed": "an item failed QC",
    "item.returned": "an item is going back to its merchant",
    "order.cancelled": "an order was cancelled (the consumer must be told)",
    "order.packed": "an order was packed",
    "order.shipped": "an order was shipped",
    "order.delivered": "an order was delivered",
    "claim.filed": "a consumer filed a 假一赔十 claim",
    "claim.accepted": "the merchant accepted a claim",
    "claim.disputed": "the merchant disputed a claim",
    "claim.decided": "the platform decided a claim (with the payout when upheld)",
    "alarm.raised": "a warehouse alarm was raised on an item",
    "alarm.cleared": "a warehouse alarm was cleared",
    "merchant.joined": "a merchant joined the 鉴定验真 programme",
    "merchant.left": "a merchant left the programme",
    "listing.labels_changed": "a listing's labels (鉴定验真, 假一赔十) changed",
}


def emit(
    session: Session,
    *,
    type: str,
    subject: str,
    merchant_id: int | None,
    at: datetime,
    **data: Any,
) -> OutboxEvent:
    """Add one event to the caller's transaction. `data` is what the platform needs: codes,
    numbers, states, amounts, reasons; never a staff member's name or id. The shop's id is
    always part of it (and what the pull feed filters a merchant's events by)."""
    if type not in EVENT_TYPES:
        raise KeyError(f"unknown event type {type!r}")
    event = OutboxEvent(
        uid=f"evt_{secrets.token_hex(16)}",
        type=type,
        subject=subject,
        merchant_id=merchant_id,
        occurred_at=at,
        data={"merchant_id": merchant_id, **data},
    )
    session.add(event)
    session.info[PENDING] = True
    return event


def sequence(session: Session, *, now: datetime, batch: int = BATCH) -> int:
    """Give the committed events their positions and queue their deliveries, `batch` to a
    transaction; returns how many were sequenced."""
    total = 0
    while True:
        with write(session):
            done = _sequence_batch(session, now, batch)
        total += done
        if done < batch:
            return total


def unsequenced(session: Session) -> bool:
    """Whether any committed event waits for a position (a read, no lock)."""
    query = select(OutboxEvent.id).where(col(OutboxEvent.position).is_(None)).limit(1)
    return session.exec(query).first() is not None


def _sequence_batch(session: Session, now: datetime, batch: int) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    events = session.exec(
        select(OutboxEvent)
        .where(col(OutboxEvent.position).is_(None))
        .order_by(col(OutboxEvent.id))
        .limit(batch)
    ).all()
    if not events:
        return 0
    head = session.exec(select(func.max(OutboxEvent.position))).one() or 0
    subscriptions = session.exec(select(Subscription).where(col(Subscription.active))).all()
    for event in events:
        head += 1
        event.position = head
        session.add(event)
        for subscription in subscriptions:
            if subscription.wants(event.type):
                session.add(
                    Delivery(
                        subscription_id=subscription.id or 0,
                        event_id=event.id or 0,
                        subject=event.subject,
                        position=head,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    return len(events)


def body(event: OutboxEvent) -> dict[str, Any]:
    """The event as the platform receives it (webhook body and feed entry alike)."""
    return {
        "id": event.uid,
        "type": event.type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "cursor": str(event.position) if event.position is not None else None,
        "data": event.data,
    }
