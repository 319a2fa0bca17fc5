"""Column types and indexes shared by the models: timestamps are always timezone-aware UTC;
unique indexes say what to tell whoever loses a race on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, text
from sqlalchemy.types import TypeDecorator

from qc_app.i18n import Message

# Key of a unique index's `info`: the refusal (a Message) `db.write` gives the loser.
CONFLICT = "qc_conflict"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; SQLite keeps no zone, so the zone is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON kept in a TEXT column, read and written as Python lists and dicts, so no caller
    parses it by hand. The text is what the services wrote before this type (non-ASCII kept,
    keys sorted unless the column's order means something): existing rows read as they are."""

    impl = Text
    cache_ok = True

    def __init__(self, *, sort_keys: bool = True) -> None:
        super().__init__()
        self.sort_keys = sort_keys

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=self.sort_keys)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def unique_index(name: str, column: str, *, refusal: Message, where: str = "") -> Index:
    """A unique index on one column, partial when `where` is given (the same condition on
    SQLite and PostgreSQL), carrying the refusal for a request that loses a race on it."""
    condition: dict[str, Any] = (
        {"sqlite_where": text(where), "postgresql_where": text(where)} if where else {}
    )
    return Index(name, column, unique=True, info={CONFLICT: refusal}, **condition)


def fen_column(*, nullable: bool = False) -> Column[int]:
    """A money amount in integer fen: 64-bit, since a ¥1,000,000,000 price is 10^11 fen and a
    假一赔十 payout eleven times that (a 32-bit column stops at ¥21,474,836.47)."""
    return Column(BigInteger(), nullable=nullable)
