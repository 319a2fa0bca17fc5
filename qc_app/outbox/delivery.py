"""Delivering the outbox: at least once, in order per subject (an item, an order, a merchant)
for each subscription, retried with exponential backoff, dead-lettered after the retry period.

One round (`deliver_round`): sequence what committed, then claim the due deliveries in a short
transaction (one claimer at a time: the sequencer's lock on PostgreSQL, the write lock on
SQLite), each leased for a while so no other worker sends it meanwhile; send them with no
transaction open; record each outcome. A delivery is due when its time has come and no earlier
delivery of the same subject to the same subscription is still pending: event N+1 of an item
waits until N was accepted (or given up). A worker that dies mid-send leaves the lease to run
out and the delivery is sent again: receivers drop duplicates by `webhook-id`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from qc_app.db import write
from qc_app.outbox import signing
from qc_app.outbox.events import SEQUENCER_LOCK, body, sequence
from qc_app.outbox.models import Attempt, Delivery, DeliveryState, OutboxEvent, Subscription

RESPONSE_KEPT = 500  # characters of an answer kept with the attempt


@dataclass(frozen=True)
class Policy:
    """Retry timing: the n-th failed attempt waits base × 2^(n-1), at most `ceiling`; a delivery
    still failing `give_up` after it was queued is dead-lettered."""

    base: timedelta = timedelta(seconds=10)
    ceiling: timedelta = timedelta(hours=1)
    give_up: timedelta = timedelta(hours=24)
    timeout: float = 10.0  # seconds an endpoint has to answer
    lease: timedelta = timedelta(minutes=2)

    def backoff(self, attempts: int) -> timedelta:
        factor: int = 2 ** min(attempts - 1, 30)
        return min(self.base * factor, self.ceiling)


@dataclass(frozen=True)
class Outcome:
    status: int | None
    response: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Send:
    """One claimed delivery, with what sending it needs (read inside the claim)."""

    delivery_id: int
    url: str
    secret: str
    message_id: str
    body: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address to send the event (and its signature) to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(send: Send, *, at: datetime, timeout: float) -> Outcome:
    """POST the signed event; any answer is an outcome, no answer is status None."""
    headers = signing.headers(secret=send.secret, message_id=send.message_id, at=at, body=send.body)
    # The URL's scheme is http or https: checked when the subscription was made (services._url).
    request = urllib.request.Request(  # noqa: S310
        send.url,
        data=send.body.encode(),
        method="POST",
        headers={**headers, "Content-Type": "application/json", "User-Agent": "qc-webhooks/1"},
    )
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status, text_ = answer.status, answer.read(RESPONSE_KEPT)
    except urllib.error.HTTPError as exc:
        status, text_ = exc.code, exc.read(RESPONSE_KEPT)
    except (OSError, ValueError) as exc:  # refused, reset, timed out, a bad URL
        status, text_ = None, f"{type(exc).__name__}: {exc}".encode()
    elapsed = int((time.monotonic() - started) * 1000)
    return Outcome(status, text_.decode(errors="replace")[:RESPONSE_KEPT], elapsed)


def claim(
    session: Session, *, now: datetime, key: bytes, policy: Policy, batch: int = 50
) -> list[Send]:
    """Lease the deliveries due now, at most one per subscription and subject."""
    earlier = aliased(Delivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.subscription_id == Delivery.subscription_id,
            earlier.subject == Delivery.subject,
            earlier.position < Delivery.position,
            earlier.outcome == DeliveryState.PENDING,
        )
        .exists()
    )
    with write(session):
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
        rows = session.exec(
            select(Delivery, OutboxEvent, Subscription)
            .join(OutboxEvent, col(OutboxEvent.id) == col(Delivery.event_id))
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .where(
                Delivery.outcome == DeliveryState.PENDING,
                col(Delivery.next_attempt_at) <= now,
                or_(col(Delivery.leased_until).is_(None), col(Delivery.leased_until) <= now),
                col(Subscription.active),
                ~blocked,
            )
            .order_by(col(Delivery.position))
            .limit(batch)
        ).all()
        sends = []
        for delivery, event, subscription in rows:
            delivery.leased_until = now + policy.lease
            session.add(delivery)
            sends.append(
                Send(
                    delivery.id or 0,
                    subscription.url,
                    signing.unseal(subscription.secret_sealed, key),
                    event.uid,
                    json.dumps(body(event), ensure_ascii=False, separators=(",", ":")),
                )
            )
    return sends


def record(
    session: Session, *, send: Send, outcome: Outcome, now: datetime, policy: Policy
) -> Delivery:
    """Store the attempt; delivered on 2xx, else due again after the backoff, or dead."""
    with write(session):
        delivery = session.get_one(Delivery, send.delivery_id)
        session.add(
            Attempt(
                delivery_id=delivery.id or 0,
                at=now,
                status=outcome.status,
                response=outcome.response,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery.attempts += 1
        delivery.leased_until = None
        delivery.last_status = outcome.status
        delivery.last_response = outcome.response
        if outcome.ok:
            delivery.outcome = DeliveryState.DELIVERED
            delivery.finished_at = now
        elif now - delivery.created_at >= policy.give_up:
            delivery.outcome = DeliveryState.DEAD
            delivery.finished_at = now
        else:
            delivery.next_attempt_at = now + policy.backoff(delivery.attempts)
        session.add(delivery)
    return delivery


@dataclass(frozen=True)
class Round:
    sent: int
    next_due: datetime | None  # the earliest pending delivery not yet due, if any


def deliver_round(
    session: Session, *, key: bytes, policy: Policy, clock: Callable[[], datetime]
) -> Round:
    """Sequence, then send what is due; again while some were accepted (an accepted event
    lets the next one of its subject go at once), not when every one failed (an endpoint that
    is down is not hammered within one round)."""
    sequence(session, now=clock())
    sent, accepted = 0, True
    while accepted:
        sends = claim(session, now=clock(), key=key, policy=policy)
        accepted = False
        for send in sends:
            outcome = post(send, at=clock(), timeout=policy.timeout)
            record(session, send=send, outcome=outcome, now=clock(), policy=policy)
            accepted = accepted or outcome.ok
        sent += len(sends)
    return Round(sent, next_due(session))


def next_due(session: Session) -> datetime | None:
    query = (
        select(Delivery.next_attempt_at)
        .where(Delivery.outcome == DeliveryState.PENDING)
        .order_by(col(Delivery.next_attempt_at))
        .limit(1)
    )
    return session.exec(query).first()
