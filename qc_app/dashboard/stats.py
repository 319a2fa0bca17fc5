"""Dashboard figures, aggregated by the database (GROUP BY, ORDER BY … OFFSET), never by
loading rows into Python: the same queries on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.claims.models import Claim
from qc_app.claims.workflow import ClaimState
from qc_app.inspection.models import Inspection
from qc_app.inspection.workflow import InspectionState
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.merchants.models import Merchant
from qc_app.warehouse.models import Alarm


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def items_by_state(session: Session) -> list[tuple[str, int]]:
    rows = dict(session.exec(select(Item.state, func.count()).group_by(Item.state)).all())
    return [(state.value, int(rows.get(state.value, 0))) for state in ItemState]


def daily_throughput(
    session: Session, *, today: date, days: int = 14
) -> list[tuple[str, int, int]]:
    """Per UTC day: items received at intake and certificates issued."""
    since = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    received_day = _day(session, col(Item.received_at))
    received = dict(
        session.exec(
            select(received_day, func.count())
            .where(col(Item.received_at) >= since)
            .group_by(received_day)
        ).all()
    )
    issued_day = _day(session, col(Certificate.issued_at))
    issued = dict(
        session.exec(
            select(issued_day, func.count())
            .where(col(Certificate.issued_at) >= since)
            .group_by(issued_day)
        ).all()
    )
    received = {str(k): v for k, v in received.items()}
    issued = {str(k): v for k, v in issued.items()}
    out = []
    for offset in range(days - 1, -1, -1):
        day = (today - timedelta(days=offset)).isoformat()
        out.append((day, int(received.get(day, 0)), int(issued.get(day, 0))))
    return out


@dataclass(frozen=True)
class Rate:
    key: str
    passed: int
    total: int

    @property
    def percent(self) -> float:
        return 0.0 if not self.total else round(100.0 * self.passed / self.total, 1)


def pass_rates(session: Session, *, by: str) -> list[Rate]:
    """Approved verdicts (after the four-eyes review), by declared material or by merchant.

    Aggregated by id first, names joined to the few resulting rows.
    """
    passed = func.sum(case((col(Inspection.verdict) == "pass", 1), else_=0)).label("passed")
    key: Any = col(Item.declared_material) if by == "material" else col(Item.merchant_id)
    grouped = (
        select(key.label("key"), passed, func.count().label("total"))
        .select_from(Inspection)
        .join(Item, col(Item.id) == col(Inspection.item_id))
        .where(Inspection.state == InspectionState.APPROVED)
        .group_by(key)
        .subquery()
    )
    if by == "material":
        query = select(grouped.c.key, grouped.c.passed, grouped.c.total)
    else:
        query = select(col(Merchant.name), grouped.c.passed, grouped.c.total).join(
            Merchant, col(Merchant.id) == grouped.c.key
        )
    query = query.order_by(grouped.c.total.desc(), query.selected_columns[0])  # then by name
    return [Rate(str(k), int(p or 0), int(n)) for k, p, n in session.exec(query).all()]


@dataclass(frozen=True)
class Turnaround:
    count: int
    p50_hours: float | None
    p90_hours: float | None


def turnaround(session: Session, *, today: date, days: int = 30) -> Turnaround:
    """Hours from intake to the item's first certificate, for certificates of the last `days`
    days: nearest-rank p50 and p90 picked by the database in one pass (window functions)."""
    since = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    first = (
        select(
            col(Certificate.item_id).label("item_id"),
            func.min(Certificate.issued_at).label("issued_at"),
        )
        .where(col(Certificate.issued_at) >= since)
        .group_by(col(Certificate.item_id))
        .subquery()
    )
    seconds = _seconds_between(session, col(Item.received_at), first.c.issued_at)
    ranked = (
        select(
            seconds.label("s"),
            func.row_number().over(order_by=seconds).label("rn"),
            func.count().over().label("n"),
        )
        .select_from(first)
        .join(Item, col(Item.id) == first.c.item_id)
        .where(col(Item.received_at).is_not(None))
        .subquery()
    )
    # Nearest rank: ceil(p·n) in integers, so both databases agree exactly.
    p50, p90 = (ranked.c.n + 1) // 2, (9 * ranked.c.n + 9) // 10
    rows = session.exec(
        select(ranked.c.s, ranked.c.rn, ranked.c.n).where(
            (ranked.c.rn == p50) | (ranked.c.rn == p90)
        )
    ).all()
    if not rows:
        return Turnaround(0, None, None)
    count = int(rows[0][2])
    by_rank = {int(rn): round(float(s) / 3600.0, 1) for s, rn, _ in rows}
    return Turnaround(count, by_rank[(count + 1) // 2], by_rank[(9 * count + 9) // 10])


def claims_count(session: Session) -> int:
    """假一赔十 claims filed so far."""

    return int(session.exec(select(func.count()).select_from(Claim)).one())


@dataclass(frozen=True)
class ClaimOutcomes:
    upheld: int
    rejected: int
    open: int
    paid_fen: int  # what the upheld claims paid in all
    revoked_certificates: int


def claim_outcomes(session: Session) -> ClaimOutcomes:
    """The claims by outcome and what they paid, and the certificates revoked (by an upheld
    claim or an admin; a reissue's superseded one is not counted): two grouped queries."""
    by_state = dict(
        session.exec(select(col(Claim.state), func.count()).group_by(col(Claim.state))).all()
    )
    paid = session.exec(select(func.coalesce(func.sum(col(Claim.payout_fen)), 0))).one()
    revoked = session.exec(
        select(func.count())
        .select_from(Certificate)
        .where(
            col(Certificate.status) == CertificateStatus.REVOKED,
            col(Certificate.superseded_by).is_(None),
        )
    ).one()
    upheld = int(by_state.pop(ClaimState.UPHELD.value, 0))
    rejected = int(by_state.pop(ClaimState.REJECTED.value, 0))
    still_open = sum(int(n) for n in by_state.values())
    return ClaimOutcomes(upheld, rejected, still_open, int(paid or 0), int(revoked))


def open_alarms(session: Session, limit: int = 50) -> list[tuple[Alarm, str]]:
    query = (
        select(Alarm, Item.code)
        .join(Item, col(Item.id) == col(Alarm.item_id))
        .where(col(Alarm.cleared_at).is_(None))
        .order_by(col(Alarm.id))
        .limit(limit)
    )
    return [(alarm, str(code)) for alarm, code in session.exec(query).all()]


def open_alarm_count(session: Session) -> int:
    """All open alarms: the list above stops at its limit, the figure must not."""
    query = select(func.count()).select_from(Alarm).where(col(Alarm.cleared_at).is_(None))
    return int(session.exec(query).one())


@dataclass(frozen=True)
class Overview:
    states: list[tuple[str, int]]
    daily: list[tuple[str, int, int]]
    by_material: list[Rate]
    by_merchant: list[Rate]
    turnaround: Turnaround
    claims: int
    alarms: list[tuple[Alarm, str]]  # the first open alarms, listed for the supervisor
    alarms_open: int = 0  # how many are open in all
    outcomes: ClaimOutcomes = ClaimOutcomes(0, 0, 0, 0, 0)


def overview(session: Session, *, today: date, days: int = 14) -> Overview:
    return Overview(
        states=items_by_state(session),
        daily=daily_throughput(session, today=today, days=days),
        by_material=pass_rates(session, by="material"),
        by_merchant=pass_rates(session, by="merchant"),
        turnaround=turnaround(session, today=today),
        claims=claims_count(session),
        alarms=open_alarms(session),
        alarms_open=open_alarm_count(session),
        outcomes=claim_outcomes(session),
    )


def _cell(text: str) -> str:
    """A merchant name like "=HYPERLINK(…)" must not become a formula in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(view: Overview) -> list[list[str]]:
    """One flat table for spreadsheets: section, key, and up to three values."""
    rows = [["section", "key", "value", "value2", "value3"]]
    rows += [["items_by_state", state, str(n), "", ""] for state, n in view.states]
    rows += [["daily", day, str(r), str(c), ""] for day, r, c in view.daily]
    for section, rates in (
        ("pass_rate_material", view.by_material),
        ("pass_rate_merchant", view.by_merchant),
    ):
        rows += [
            [section, _cell(r.key), str(r.passed), str(r.total), f"{r.percent}"] for r in rates
        ]
    t = view.turnaround
    rows.append(
        [
            "turnaround_hours",
            "p50/p90/count",
            str(t.p50_hours or ""),
            str(t.p90_hours or ""),
            str(t.count),
        ]
    )
    rows.append(["alarms_open", "count", str(view.alarms_open), "", ""])
    rows.append(["claims", "count", str(view.claims), "", ""])
    o = view.outcomes
    rows.append(["claims", "upheld/rejected/open", str(o.upheld), str(o.rejected), str(o.open)])
    rows.append(["claims", "paid_fen", str(o.paid_fen), "", ""])
    rows.append(["certificates", "revoked", str(o.revoked_certificates), "", ""])
    return rows
