from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import JSONText, UTCDateTime


class OutboxEvent(SQLModel, table=True):
    """Table: one change the platform is told of, written in the transaction of the change.
    `id` is the order of the inserts, not of the commits; `position` (the feed's cursor) is
    given by the sequencer once the row is committed (outbox.events.sequence)."""

    __tablename__ = "outbox_events"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=40, unique=True)  # the webhook-id: stable across retries
    type: str = Field(max_length=48, index=True)
    # What the order of delivery is kept for ("item:QC…", "order:DY…", "merchant:3").
    subject: str = Field(max_length=80)
    merchant_id: int | None = Field(default=None, index=True)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONText(), nullable=False))
    position: int | None = Field(default=None, sa_column=Column(BigInteger(), unique=True))


class Subscription(SQLModel, table=True):
    """Table: one webhook endpoint of the platform, with its own secret and event filter."""

    __tablename__ = "webhook_subscriptions"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    # Event types delivered; empty: every type.
    event_types: list[str] = Field(sa_column=Column(JSONText(), nullable=False))
    # The whsec_ secret, encrypted under a key the database does not hold (outbox.signing).
    secret_sealed: str = Field(max_length=200)
    secret_hint: str = Field(max_length=16)  # its first characters, to tell secrets apart
    active: bool = True
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryState(StrEnum):
    PENDING = "pending"  # not yet accepted by the endpoint: due at next_attempt_at
    DELIVERED = "delivered"  # answered 2xx
    DEAD = "dead"  # given up after the retry period; an admin may replay it


class Delivery(SQLModel, table=True):
    """Table: one event for one subscription, from its first attempt to its outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_order", "subscription_id", "subject", "position"),
        Index("ix_webhook_deliveries_due", "outcome", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id")
    event_id: int = Field(foreign_key="outbox_events.id")
    # The event's subject and position, copied: what the in-order check reads.
    subject: str = Field(max_length=80)
    position: int = Field(sa_column=Column(BigInteger(), nullable=False))
    outcome: DeliveryState = Field(
        default=DeliveryState.PENDING, sa_column=Column(String(16), nullable=False)
    )
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # A worker sending it holds it until then; a worker that died lets it go at that time.
    leased_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_status: int | None = None
    last_response: str = Field(default="", max_length=500)


class Attempt(SQLModel, table=True):
    """Table: one HTTP attempt of a delivery: when, the status or the error, the answer's start."""

    __tablename__ = "webhook_attempts"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: int | None = None  # None: no HTTP answer (refused, timed out)
    response: str = Field(default="", max_length=500)
    duration_ms: int = 0
