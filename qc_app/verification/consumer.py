"""What the consumer's page adds around the verdict: the scan counter, the parcel's seal
number, and the guarantee programme (what it covers and not). Kept apart from the verdict
services so both can change independently.

Hot path: one UPSERT (the scan) and one query (seal, programme, scan aggregates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from qc_app.claims.models import DEFAULT_PROGRAMME, Programme
from qc_app.verification import scans


@dataclass(frozen=True)
class Extras:
    scans: scans.ScanSummary
    seal_no: str | None
    programme: Programme | None
    can_claim: bool


# Built from constant fragments only; every value is a bound parameter.
_FACTS = text(
    "SELECT o.id AS order_id, o.seal_no, p.code, p.name_zh, p.name_en, p.multiplier, "  # noqa: S608
    "p.window_days, p.scope, p.starts_at, p.ends_at, "
    + scans.aggregate_columns()
    + " FROM certificates c JOIN items i ON i.id = c.item_id"
    " LEFT JOIN orders o ON o.id = i.order_id"
    " LEFT JOIN listings l ON l.id = o.listing_id"
    " LEFT JOIN programmes p ON o.id IS NOT NULL AND p.id = COALESCE(o.programme_id,"
    " l.programme_id, (SELECT id FROM programmes WHERE code = :default))"
    " WHERE c.id = :cid"
)


def extras(
    session: Session,
    *,
    certificate_id: int,
    role: str | None,
    limits: scans.Thresholds,
    now: datetime,
) -> Extras:
    """`session` is the counter session: the scan commits first, so the counts include it."""
    if scans.counts(role):
        scans.record_scan(session, certificate_id=certificate_id, now=now)
    row = session.execute(_FACTS, {"cid": certificate_id, "default": DEFAULT_PROGRAMME}).one()
    total, first, busiest = scans.typed(row)
    summary = scans.summarise(
        session,
        certificate_id=certificate_id,
        total=total,
        first=first,
        busiest=busiest,
        limits=limits,
        now=now,
    )
    session.commit()
    programme = (
        Programme(
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            multiplier=row.multiplier,
            window_days=row.window_days,
            scope=row.scope,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
        )
        if row.code
        else None
    )
    return Extras(summary, row.seal_no, programme, row.order_id is not None)
