"""A listing's items with their results: the approved verdict, the certificate, the pass rate.

What the merchant's listing page shows; here, not in listings, because it reads inspections
and certificates, which build on listings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from qc_app.auth.models import User
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.inspection.models import Inspection
from qc_app.inspection.workflow import InspectionState
from qc_app.items.models import Item
from qc_app.listings.consistency import TitleWarning, check_title
from qc_app.listings.models import Listing
from qc_app.listings.services import get_listing
from qc_app.rules.engine import load_ruleset


@dataclass(frozen=True)
class ItemRow:
    item: Item
    certificate: Certificate | None
    verdict: str | None  # the approved inspection's verdict, if any

    @property
    def revoked(self) -> bool:
        """Passed, but its certificate was revoked without a replacement (an upheld claim, a
        revocation): no longer counted as a pass."""
        c = self.certificate
        return c is not None and c.status == CertificateStatus.REVOKED and not c.superseded_by


@dataclass(frozen=True)
class ListingView:
    listing: Listing
    warnings: list[TitleWarning]
    items: list[ItemRow]
    passed: int
    failed: int
    revoked: int = 0  # passed at the lab, certificate revoked since: counted against the rate

    @property
    def pass_rate(self) -> str:
        judged = self.passed + self.failed
        return "—" if not judged else f"{(self.passed - self.revoked) * 100 // judged}%"


def listing_view(*, session: Session, actor: User, listing_id: int) -> ListingView:
    """A listing with its consistency warnings, its items, certificates and pass rate."""
    listing = get_listing(session=session, actor=actor, listing_id=listing_id)
    items = list(
        session.exec(select(Item).where(Item.listing_id == listing.id).order_by(col(Item.id)))
    )
    ids = [item.id for item in items]
    # Ascending ids into a dict: the latest approved inspection and certificate win, as in
    # inspection.services.latest_approved and certificates.lookup.certificate_of.
    approved = {
        i.item_id: i
        for i in session.exec(
            select(Inspection)
            .where(col(Inspection.item_id).in_(ids), Inspection.state == InspectionState.APPROVED)
            .order_by(col(Inspection.id))
        )
    }
    certificates = {
        c.item_id: c
        for c in session.exec(
            select(Certificate)
            .where(col(Certificate.item_id).in_(ids))
            .order_by(col(Certificate.id))
        )
    }
    rows: list[ItemRow] = []
    passed = failed = revoked = 0
    for item in items:
        inspection = approved.get(item.id or 0)
        verdict = inspection.verdict if inspection else None
        passed += verdict == "pass"
        failed += verdict == "fail"
        row = ItemRow(item, certificates.get(item.id or 0), verdict)
        revoked += verdict == "pass" and row.revoked
        rows.append(row)
    warnings = check_title(listing.title, listing.material_code, load_ruleset())
    return ListingView(listing, warnings, rows, passed, failed, revoked)
