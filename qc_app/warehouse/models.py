from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import JSONText, UTCDateTime


class OnceToken(SQLModel, table=True):
    """Table: a used one-time form token or Idempotency-Key and the outcome it produced.

    The unique constraint is the guarantee: a double scan, a double submit or a retried API
    call can claim the same key only once; the second caller gets the first caller's outcome
    if it asked for the same thing (request_sha256), and a refusal otherwise.
    """

    __tablename__ = "once_tokens"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_once_tokens_user_key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80)
    user_id: int = Field(foreign_key="users.id")
    scope: str = Field(max_length=24)
    request_sha256: str = Field(max_length=64)  # once.digest of the request that claimed it
    outcome: Any = Field(sa_column=Column(JSONText(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Alarm(SQLModel, table=True):
    """Table: a warehouse alarm (mass drift: a swapped stone); open until an admin clears it."""

    __tablename__ = "alarms"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    kind: str = Field(max_length=24)
    station: str = Field(default="", max_length=40)
    detail: dict[str, Any] = Field(sa_column=Column(JSONText(), nullable=False))
    raised_by_id: int = Field(foreign_key="users.id")
    raised_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cleared_by_id: int | None = Field(default=None, foreign_key="users.id")
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))
    clear_note: str | None = Field(default=None, max_length=300)
