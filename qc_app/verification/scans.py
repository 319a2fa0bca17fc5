"""Scan counting for the consumer's page: how often, since when, and the copied-code warnings.

One UPSERT of an hourly counter per consumer scan, nothing else: no IP, no device, no cookie
(so there is nothing personal to keep; rows older than SCAN_RETENTION_DAYS may be deleted).
Staff and merchant scans are never counted. The counter is written on its own connection
without an fsync per commit (db.counter_session): a scan is not worth a disk flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, func, text
from sqlmodel import Field, Session, SQLModel, select

NOT_COUNTED_ROLES = frozenset({"merchant", "inspector", "analyst", "reviewer", "admin"})
SCAN_RETENTION_DAYS = 730  # two claim windows and more; counts only, nothing personal


class ScanHour(SQLModel, table=True):
    """Table: consumer scans of one certificate within one UTC hour (a counter, no identities)."""

    __tablename__ = "scan_hours"
    certificate_id: int = Field(foreign_key="certificates.id", primary_key=True)
    hour: datetime = Field(sa_column=Column(DateTime(), primary_key=True))  # naive UTC
    n: int = Field(sa_column=Column(Integer, nullable=False))


@dataclass(frozen=True)
class Thresholds:
    """When a genuine code looks copied. Data, set in Config.SCAN_THRESHOLDS."""

    total: int = 50  # scans in all: a parcel's buyer checks a few times, not fifty
    burst_per_hour: int = 10  # scans within one hour
    window_days: int = 90  # scans this long after the first one (the claim window) are odd


@dataclass(frozen=True)
class ScanSummary:
    total: int
    first: datetime | None
    busiest_hour: int
    late: int  # scans after the window since the first scan
    total_exceeded: bool
    burst: bool

    @property
    def warning(self) -> bool:
        return self.total_exceeded or self.burst or self.late > 0


_UPSERT = text(
    "INSERT INTO scan_hours (certificate_id, hour, n) VALUES (:cid, :hour, 1) "
    "ON CONFLICT (certificate_id, hour) DO UPDATE SET n = scan_hours.n + 1"
)


def counts(role: str | None) -> bool:
    return role not in NOT_COUNTED_ROLES


def record_scan(session: Session, *, certificate_id: int, now: datetime) -> None:
    """One statement (SQLite ≥ 3.24 and PostgreSQL both take ON CONFLICT), committed at once."""
    hour = now.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    session.execute(_UPSERT, {"cid": certificate_id, "hour": hour})
    session.commit()


def summarise(
    session: Session,
    *,
    certificate_id: int,
    total: int,
    first: datetime | None,
    busiest: int,
    limits: Thresholds,
    now: datetime,
) -> ScanSummary:
    """From the aggregate row; a second query only when the first scan is older than the window."""
    late = 0
    if first is not None and first + timedelta(days=limits.window_days) <= now.replace(tzinfo=None):
        cutoff = first + timedelta(days=limits.window_days)
        late = int(
            session.exec(
                select(func.coalesce(func.sum(ScanHour.n), 0)).where(
                    ScanHour.certificate_id == certificate_id,
                    ScanHour.hour >= cutoff,
                )
            ).one()
        )
    return ScanSummary(
        total=total,
        first=first,
        busiest_hour=busiest,
        late=late,
        total_exceeded=total > limits.total,
        burst=busiest > limits.burst_per_hour,
    )


def aggregate_columns() -> str:
    """SQL select-list fragments for total / first / busiest of :cid (used by one page query)."""
    return (
        "(SELECT COALESCE(SUM(n), 0) FROM scan_hours WHERE certificate_id = :cid) AS scans_total, "
        "(SELECT MIN(hour) FROM scan_hours WHERE certificate_id = :cid) AS scans_first, "
        "(SELECT COALESCE(MAX(n), 0) FROM scan_hours WHERE certificate_id = :cid) AS scans_busiest"
    )


def typed(row: Any) -> tuple[int, datetime | None, int]:
    first = row.scans_first
    if isinstance(first, str):  # SQLite returns text for an untyped aggregate
        first = datetime.fromisoformat(first)
    return int(row.scans_total), first, int(row.scans_busiest)
