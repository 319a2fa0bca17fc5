"""Scan counting for the consumer's page: how often, since when, and the copied-code warnings.

One UPSERT of an hourly counter per consumer scan, nothing else: no IP, no device, no cookie
(so there is nothing personal to keep; rows older than SCAN_RETENTION_DAYS may be deleted).
Staff and merchant scans are never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, func, text
from sqlmodel import Field, Session, SQLModel, select

from qc_app.db import write

NOT_COUNTED_ROLES = frozenset({"merchant", "inspector", "analyst", "reviewer", "admin"})


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
    """One statement in its own short write transaction (SQLite ≥ 3.24 and PostgreSQL both
    take ON CONFLICT); the page's reads are finished first, so no lock upgrade can fail."""
    hour = now.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    with write(session):
        session.execute(_UPSERT, {"cid": certificate_id, "hour": hour})


def summary(
    session: Session, *, certificate_id: int, limits: Thresholds, now: datetime
) -> ScanSummary:
    row = session.exec(
        select(
            func.coalesce(func.sum(ScanHour.n), 0), func.min(ScanHour.hour), func.max(ScanHour.n)
        ).where(ScanHour.certificate_id == certificate_id)
    ).one()
    total, first, busiest = int(row[0]), row[1], int(row[2] or 0)
    late = 0
    naive_now = now.replace(tzinfo=None)
    if first is not None and first + timedelta(days=limits.window_days) <= naive_now:
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


def observe(
    session: Session, *, certificate_id: int, role: str | None, limits: Thresholds, now: datetime
) -> ScanSummary:
    """Count this scan unless staff or a merchant made it, then summarise."""
    if counts(role):
        record_scan(session, certificate_id=certificate_id, now=now)
    return summary(session, certificate_id=certificate_id, limits=limits, now=now)
