"""The case file of a claim: every fact the admin needs to decide, read in one place.

A plain record the claim page loops over (order, listing, item, certificate, seal, the masses
and photos of intake, lab and packing, the lab's result, both parties' words and evidence, the
programme's terms), with the payout computed by the same function the decision pays with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from qc_app.auth.models import User
from qc_app.certificates import signing
from qc_app.certificates.keys import verifier
from qc_app.certificates.lookup import certificate_of
from qc_app.certificates.models import Certificate
from qc_app.claims import services
from qc_app.claims.models import Claim, Evidence, Party
from qc_app.i18n import Message, msg, verbatim
from qc_app.inspection.models import Inspection
from qc_app.inspection.services import latest_approved
from qc_app.items.models import Item, Photo
from qc_app.items.services import item_photos
from qc_app.listings.models import Listing
from qc_app.orders.models import Order
from qc_app.orders.services import lab_mass_cg
from qc_app.programmes.models import Programme
from qc_app.rules.engine import load_ruleset


@dataclass(frozen=True)
class Stage:
    """One weighing of the piece (intake, lab, packing) and the photos taken there."""

    name: str  # intake / lab / packing
    mass_cg: int | None
    photos: list[Photo]


@dataclass(frozen=True)
class CaseFile:
    claim: Claim
    order: Order
    listing: Listing
    item: Item
    certificate: Certificate
    # The certificate's stored payload still carries our signature (not altered since issue).
    signature_ok: bool
    # The certificate that replaced this one after a reissue, if any.
    current_certificate: Certificate | None
    programme: Programme
    inspection: Inspection | None
    measurements: list[tuple[Message, Message]]  # the lab's readings, named
    stages: list[Stage]
    evidence: list[Evidence]
    days_since_delivery: int | None
    payout: services.Payout

    @property
    def within_window(self) -> bool:
        days = self.days_since_delivery
        return days is not None and days <= self.programme.window_days

    @property
    def consumer_evidence(self) -> list[Evidence]:
        return [e for e in self.evidence if e.party == Party.CONSUMER]

    @property
    def merchant_evidence(self) -> list[Evidence]:
        return [e for e in self.evidence if e.party == Party.MERCHANT]


def _signature_ok(session: Session, certificate: Certificate) -> bool:
    try:
        verifier(session).verify(
            certificate.payload.encode("utf-8"),
            certificate.signature,
            certificate.kid,
            at=certificate.issued_at,
        )
    except (signing.SignatureInvalid, signing.UnknownKey, signing.KeyOutsideWindow):
        return False
    return True


def _measurements(inspection: Inspection | None) -> list[tuple[Message, Message]]:
    if inspection is None:
        return []
    rules = load_ruleset()
    words = {True: msg("是"), False: msg("否")}
    return [
        (rules.field_label(key), words[value] if isinstance(value, bool) else verbatim(str(value)))
        for key, value in inspection.measurements.items()
        if value not in (None, "")
    ]


def _stages(
    session: Session, item: Item, order: Order, inspection: Inspection | None
) -> list[Stage]:
    photos = item_photos(session=session, item=item)
    return [
        Stage("intake", item.received_mass_cg, [p for p in photos if p.kind == "intake"]),
        Stage("lab", lab_mass_cg(inspection), [p for p in photos if p.kind == "lab"]),
        Stage("packing", order.packed_mass_cg, [p for p in photos if p.kind == "packing"]),
    ]


def case_file(
    *, session: Session, actor: User, number: str, now: datetime, postage_fen: int | None = None
) -> CaseFile:
    """The claim `number` as its case file, for anyone who may see the claim (a merchant only
    its own: get_claim answers 404 otherwise). `postage_fen`: the payout with this postage
    (what the admin typed) instead of what the consumer asked for."""
    claim = services.get_claim(session=session, actor=actor, number=number)
    order = session.get_one(Order, claim.order_id)
    certificate = session.get_one(Certificate, claim.certificate_id)
    item = session.get_one(Item, certificate.item_id)
    inspection = latest_approved(session=session, item=item)
    programme = session.get_one(Programme, claim.programme_id)
    latest = certificate_of(session=session, item=item)
    delivered = order.delivered_at
    return CaseFile(
        claim=claim,
        order=order,
        listing=session.get_one(Listing, order.listing_id),
        item=item,
        certificate=certificate,
        signature_ok=_signature_ok(session, certificate),
        current_certificate=latest if latest is not None and latest.id != certificate.id else None,
        programme=programme,
        inspection=inspection,
        measurements=_measurements(inspection),
        stages=_stages(session, item, order, inspection),
        evidence=services.evidence_of(session, claim),
        days_since_delivery=None if delivered is None else (claim.created_at - delivered).days,
        payout=services.payout_of(
            session, claim, claim.postage_fen if postage_fen is None else postage_fen
        ),
    )
