"""Subscriptions, the pull feed, and the admin's view of deliveries (with replay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import EVENTS, WEBHOOKS, Role, authorize
from qc_app.db import write
from qc_app.errors import FieldErrors, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.outbox import signing
from qc_app.outbox.events import EVENT_TYPES, sequence, unsequenced
from qc_app.outbox.models import Attempt, Delivery, DeliveryState, OutboxEvent, Subscription
from qc_app.units import clean_text

FEED_LIMIT = 500


def _url(value: object) -> str:
    url = clean_text(value, "URL", required=True, max_length=500)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(msg("Webhook 地址须为 http:// 或 https:// 开头的完整网址"))
    return url


def _event_types(value: object) -> list[str]:
    if value is None or value == "":
        return []
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationFailed(msg("事件类型须为列表"))
    chosen = sorted({n.strip() for n in names if n.strip()})
    unknown = [n for n in chosen if n not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(msg("未知的事件类型：{names}", names=", ".join(unknown)))
    return chosen


def create_subscription(
    *,
    session: Session,
    actor: User,
    url: object,
    event_types: object,
    description: object,
    key: bytes,
    now: datetime,
) -> tuple[Subscription, str]:
    """A new endpoint with a new secret; the secret is returned here and never again. Every
    field's problem is named at once (the form's names: url, description, event_types)."""
    authorize(actor, WEBHOOKS)
    errors = FieldErrors()
    checked_url = errors.take("url", _url, url)
    checked_description = errors.take(
        "description", clean_text, description, "说明", required=False, max_length=200
    )
    checked_types = errors.take("event_types", _event_types, event_types)
    errors.check()
    secret = signing.new_secret()
    subscription = Subscription(
        url=checked_url or "",
        description=checked_description or "",
        event_types=checked_types or [],
        secret_sealed=signing.seal(secret, key),
        secret_hint=secret[:10],
        created_by_id=actor.id or 0,
        created_at=now,
    )
    with write(session):
        session.add(subscription)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="webhook_subscribed",
            entity="webhook",
            entity_id=subscription.id or 0,
            at=now,
            url=subscription.url,
            event_types=subscription.event_types,
        )
    return subscription, secret


def get_subscription(*, session: Session, actor: User, subscription_id: int) -> Subscription:
    authorize(actor, WEBHOOKS)
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(msg("未找到 Webhook 订阅"))
    return subscription


def set_active(
    *, session: Session, actor: User, subscription_id: int, active: bool, now: datetime
) -> Subscription:
    """A paused subscription queues its events and sends them when resumed; none is lost."""
    subscription = get_subscription(session=session, actor=actor, subscription_id=subscription_id)
    with write(session, subscription):
        subscription.active = active
        session.add(subscription)
        audit.record(
            session,
            actor=actor,
            action="webhook_resumed" if active else "webhook_paused",
            entity="webhook",
            entity_id=subscription_id,
            at=now,
        )
    return subscription


def subscriptions(*, session: Session, actor: User) -> list[Subscription]:
    authorize(actor, WEBHOOKS)
    return list(session.exec(select(Subscription).order_by(col(Subscription.id))))


@dataclass(frozen=True)
class DeliveryRow:
    delivery: Delivery
    event: OutboxEvent
    attempts: list[Attempt]


def deliveries(
    *,
    session: Session,
    actor: User,
    subscription_id: int | None = None,
    state: DeliveryState | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """The newest deliveries first, each with its event and its attempts."""
    authorize(actor, WEBHOOKS)
    query = select(Delivery, OutboxEvent).join(
        OutboxEvent, col(OutboxEvent.id) == col(Delivery.event_id)
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if state is not None:
        query = query.where(Delivery.outcome == state)
    rows = session.exec(query.order_by(col(Delivery.id).desc()).limit(limit)).all()
    ids = [d.id for d, _ in rows]
    attempts: dict[int, list[Attempt]] = {}
    found = select(Attempt).where(col(Attempt.delivery_id).in_(ids)).order_by(col(Attempt.id))
    for attempt in session.exec(found):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [DeliveryRow(d, e, attempts.get(d.id or 0, [])) for d, e in rows]


def _requeue(delivery: Delivery, now: datetime) -> None:
    delivery.outcome = DeliveryState.PENDING
    delivery.created_at = now  # a replay gets a full retry period of its own
    delivery.next_attempt_at = now
    delivery.finished_at = None
    delivery.leased_until = None


def replay(*, session: Session, actor: User, delivery_id: int, now: datetime) -> Delivery:
    """Send one delivery again (dead-lettered, or delivered and lost by the receiver)."""
    authorize(actor, WEBHOOKS)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(msg("未找到投递记录"))
    with write(session, delivery):
        if delivery.outcome == DeliveryState.PENDING:
            raise ValidationFailed(msg("该投递仍在重试中，无需重放"))
        _requeue(delivery, now)
        session.add(delivery)
        audit.record(
            session,
            actor=actor,
            action="webhook_replayed",
            entity="webhook",
            entity_id=delivery.subscription_id,
            at=now,
            delivery=delivery_id,
        )
    return delivery


def replay_dead(
    *, session: Session, actor: User, subscription_id: int | None, now: datetime
) -> int:
    """Send every dead-lettered delivery again (of one subscription, or of all); in their
    original order, as the in-order rule applies to them again."""
    authorize(actor, WEBHOOKS)
    with write(session):
        query = select(Delivery).where(Delivery.outcome == DeliveryState.DEAD)
        if subscription_id is not None:
            query = query.where(Delivery.subscription_id == subscription_id)
        dead: Sequence[Delivery] = session.exec(query.with_for_update()).all()
        for delivery in dead:
            _requeue(delivery, now)
            session.add(delivery)
        audit.record(
            session,
            actor=actor,
            action="webhook_replayed",
            entity="webhook",
            entity_id=subscription_id or "all",
            at=now,
            deliveries=len(dead),
        )
    return len(dead)


@dataclass(frozen=True)
class Page:
    events: list[OutboxEvent]
    cursor: int  # pass as `after` for the next page


def feed(*, session: Session, actor: User, after: int, limit: int, now: datetime) -> Page:
    """Events after the cursor in commit order; a merchant gets only its own shop's."""
    authorize(actor, EVENTS)
    if unsequenced(session):
        sequence(session, now=now)
    query = select(OutboxEvent).where(col(OutboxEvent.position) > after)
    if actor.role == Role.MERCHANT:
        query = query.where(OutboxEvent.merchant_id == actor.merchant_id)
    events = list(session.exec(query.order_by(col(OutboxEvent.position)).limit(limit)))
    return Page(events, events[-1].position or after if events else after)
