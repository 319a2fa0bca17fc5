"""Scan counting for the consumer's page: how often, since when, and the copied-code warnings.

An hourly counter per certificate, nothing else: no IP, no device, no cookie, so there is
nothing personal to keep. Staff and merchant scans are never counted.

Scans are tallied in the process and written together (`Tally`): one transaction per
SCAN_FLUSH_SECONDS, not one per scan, on the counter connection without an fsync per commit
(db.init_app): a scan is not worth a disk flush, nor a wait for SQLite's single writer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, bindparam, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from qc_app.ops import metrics

log = logging.getLogger(__name__)

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
class Counts:
    """Consumer scans of one certificate as read with the page's query (`aggregate_columns`)."""

    hour: datetime  # the current UTC hour (naive), the row a scan now goes to
    total: int
    first: datetime | None
    busiest: int  # most scans within one hour
    this_hour: int

    def plus(self, more: int, in_this_hour: int) -> Counts:
        """With `more` scans not in the database yet (`in_this_hour` of them in this hour)."""
        if not more:
            return self
        this_hour = self.this_hour + in_this_hour
        return Counts(
            hour=self.hour,
            total=self.total + more,
            first=self.first or self.hour,
            busiest=max(self.busiest, this_hour),
            this_hour=this_hour,
        )


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
    "INSERT INTO scan_hours (certificate_id, hour, n) VALUES (:cid, :hour, :n) "
    "ON CONFLICT (certificate_id, hour) DO UPDATE SET n = scan_hours.n + excluded.n"
).bindparams(bindparam("hour", type_=DateTime()))


def counts(role: str | None) -> bool:
    return role not in NOT_COUNTED_ROLES


def hour_of(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0, tzinfo=None)


class Tally:
    """Consumer scans counted by this process and not yet written, by (certificate, hour).

    The first scan after `every_s` writes them all in one transaction. This process adds its
    pending scans to what it reads, so its pages are exact; another worker's scans show within
    `every_s`. A crash loses at most that much counting (never other data)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        self._pending: Counter[tuple[int, datetime]] = Counter()
        self._by_certificate: Counter[int] = Counter()
        self._since: float | None = None

    def add(self, certificate_id: int, hour: datetime) -> None:
        metrics.SCANS.inc()
        with self._lock:
            self._pending[(certificate_id, hour)] += 1
            self._by_certificate[certificate_id] += 1
            if self._since is None:
                self._since = time.monotonic()

    def pending(self, certificate_id: int, hour: datetime) -> tuple[int, int]:
        """Scans of the certificate not yet written: in all, and within `hour`."""
        with self._lock:
            return self._by_certificate[certificate_id], self._pending[(certificate_id, hour)]

    def flush(self, engine: Engine, *, force: bool = False) -> int:
        """Write the pending scans when due (or `force`); on failure they stay pending."""
        with self._lock:
            due = self._since is not None and time.monotonic() - self._since >= self.every_s
            if not self._pending or not (due or force):
                return 0
            batch, self._pending = self._pending, Counter()
            self._by_certificate, self._since = Counter(), None
        rows = [{"cid": cid, "hour": hour, "n": n} for (cid, hour), n in batch.items()]
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                conn.execute(_UPSERT, rows)
        except Exception:
            log.exception("scan counts not written; kept for the next flush")
            with self._lock:
                self._pending.update(batch)
                for (cid, _hour), n in batch.items():
                    self._by_certificate[cid] += n
                self._since = self._since or time.monotonic()
            return 0
        return sum(batch.values())


def summarise(
    session: Session, *, certificate_id: int, seen: Counts, unwritten: int, limits: Thresholds
) -> ScanSummary:
    """From the counts; a second query only when the first scan is older than the window.
    `unwritten` scans (pending in the tally, all made just now) count as late then too."""
    late = 0
    first = seen.first
    if first is not None and first + timedelta(days=limits.window_days) <= seen.hour:
        cutoff = first + timedelta(days=limits.window_days)
        written = session.exec(
            select(func.coalesce(func.sum(ScanHour.n), 0)).where(
                ScanHour.certificate_id == certificate_id,
                ScanHour.hour >= cutoff,
            )
        ).one()
        late = int(written) + unwritten
    return ScanSummary(
        total=seen.total,
        first=first,
        busiest_hour=seen.busiest,
        late=late,
        total_exceeded=seen.total > limits.total,
        burst=seen.busiest > limits.burst_per_hour,
    )


def aggregate_columns(certificate_id: str) -> str:
    """SQL select-list fragments: scans of the certificate `certificate_id` (a column name),
    in all, first hour, busiest hour, and in the hour bound as :hour."""
    of = f"FROM scan_hours WHERE certificate_id = {certificate_id}"
    return (
        f"(SELECT COALESCE(SUM(n), 0) {of}) AS scans_total, "
        f"(SELECT MIN(hour) {of}) AS scans_first, "
        f"(SELECT COALESCE(MAX(n), 0) {of}) AS scans_busiest, "
        f"(SELECT COALESCE(SUM(n), 0) {of} AND hour = :hour) AS scans_this_hour"
    )


def counts_of(row: Any, hour: datetime) -> Counts:
    return Counts(
        hour=hour,
        total=int(row.scans_total),
        first=row.scans_first,  # typed DateTime by the query
        busiest=int(row.scans_busiest),
        this_hour=int(row.scans_this_hour),
    )
