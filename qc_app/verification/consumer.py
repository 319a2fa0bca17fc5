"""What the consumer's page adds around the verdict: the scan counter, the parcel's seal
number, and the guarantee programme (what it covers and not). Kept apart from the verdict
services so both can change independently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from qc_app.certificates.models import Certificate
from qc_app.claims.models import Programme
from qc_app.claims.services import programme_of
from qc_app.intake.models import Item
from qc_app.orders.models import Order
from qc_app.verification import scans


@dataclass(frozen=True)
class Extras:
    scans: scans.ScanSummary
    seal_no: str | None
    programme: Programme | None
    can_claim: bool


def extras(
    session: Session,
    *,
    certificate: Certificate,
    role: str | None,
    limits: scans.Thresholds,
    now: datetime,
) -> Extras:
    item = session.get(Item, certificate.item_id)
    order = session.get(Order, item.order_id) if item and item.order_id else None
    programme = programme_of(session, order) if order else None
    summary = scans.observe(
        session, certificate_id=certificate.id or 0, role=role, limits=limits, now=now
    )
    return Extras(summary, order.seal_no if order else None, programme, order is not None)
