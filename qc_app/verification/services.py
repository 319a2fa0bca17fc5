"""What the consumer's page says about a code: valid, revoked, not found, or forged.

A QR code carries the certificate number and an Ed25519 signature over it; a code whose
signature does not verify was not made by us, whatever number it shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from qc_app.certificates import numbers, signing
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.certificates.services import find, verifier
from qc_app.inspection.models import TestingBody
from qc_app.intake.models import Item, Photo
from qc_app.intake.services import item_photos


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # authentic, revoked, and replaced by a reissued certificate
    NOT_FOUND = "not_found"
    FORGED = "forged"


@dataclass(frozen=True)
class PublicView:
    """Only what the public may see: no internal ids, notes or staff accounts."""

    verdict: Verdict
    number: str
    certificate: Certificate | None = None
    payload: dict[str, Any] | None = None
    testing_body: TestingBody | None = None
    photo: Photo | None = None
    signature_ok: bool = False
    replacement_url: str | None = None  # the reissued certificate's QR link

    @property
    def photo_url(self) -> str | None:
        if self.photo is None or self.certificate is None:
            return None
        c = self.certificate
        return f"/v/{c.number}/photo.jpg?k={c.kid}&s={c.url_signature}"


def _view(session: Session, keys: signing.Verifier, certificate: Certificate) -> PublicView:
    data = certificate.payload.encode("utf-8")
    try:
        keys.verify(data, certificate.signature, certificate.kid, at=certificate.issued_at)
    except (signing.SignatureInvalid, signing.UnknownKey, signing.KeyOutsideWindow):
        # The stored record does not carry our signature: it was altered in the database.
        return PublicView(Verdict.FORGED, certificate.number)
    item = session.get(Item, certificate.item_id)
    photos = item_photos(session=session, item=item) if item else []
    verdict = Verdict.VALID if certificate.status == CertificateStatus.VALID else Verdict.REVOKED
    replacement_url = None
    if verdict == Verdict.REVOKED and certificate.superseded_by:
        replacement = find(session, certificate.superseded_by)
        if replacement is not None:
            verdict = Verdict.SUPERSEDED
            replacement_url = (
                f"/v/{replacement.number}?k={replacement.kid}&s={replacement.url_signature}"
            )
    signed = json.loads(data)
    body = session.exec(
        select(TestingBody).where(TestingBody.code == signed["testing_body"]["code"])
    ).first()
    return PublicView(
        verdict,
        certificate.number,
        certificate,
        signed,
        body,
        photos[-1] if photos else None,
        True,
        replacement_url,
    )


def by_qr(*, session: Session, number: str, kid: str, signature: str) -> PublicView:
    number = numbers.normalize(number)
    keys = verifier(session)
    try:
        keys.verify_url(number, signature, kid)
    except (signing.SignatureInvalid, signing.UnknownKey):
        return PublicView(Verdict.FORGED, number)
    certificate = find(session, number)
    if certificate is None:
        return PublicView(Verdict.NOT_FOUND, number)
    return _view(session, keys, certificate)


def by_code(*, session: Session, number: str, check_code: str) -> PublicView:
    """Typed number + check code. A wrong code reads as not found, so numbers can't be probed."""
    number = numbers.normalize(number)
    if not numbers.is_certificate_number(number):
        return PublicView(Verdict.NOT_FOUND, number)
    certificate = find(session, number)
    if certificate is None or not numbers.check_code_matches(
        number, check_code, certificate.check_code_hash
    ):
        return PublicView(Verdict.NOT_FOUND, number)
    return _view(session, verifier(session), certificate)
