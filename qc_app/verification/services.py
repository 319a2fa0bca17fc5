"""What the consumer's page says about a code: valid, revoked, not found, or forged.

A QR code carries the certificate number and an Ed25519 signature over it; a code whose
signature does not verify was not made by us, whatever number it shows.

Hot path (every scan): one read query for everything the page shows (`_RECORD`: the
certificate, its replacement, the latest photo, the testing body, the parcel's order, its
guarantee programme and whether the shop offered it when the order was placed, and the scan
counts so far), built into plain dataclasses, not ORM objects. Whether a claim can be filed is
programmes.coverage.decide over those facts, the very function a filed claim is checked with.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, bindparam, text, update
from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.certificates import signing
from qc_app.certificates.keys import verifier
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.codes import check_code_matches, is_certificate_number, normalize
from qc_app.db import single_read, write
from qc_app.errors import Conflict, NotFound
from qc_app.i18n import Message, msg
from qc_app.items.proof import no_photo_words
from qc_app.merchants.services import guarantee_in_force
from qc_app.programmes.coverage import ACTIVE_STATES_SQL, Coverage, Facts, Terms, decide
from qc_app.sqltypes import UTCDateTime
from qc_app.units import local_time
from qc_app.verification import scans

KEYS_MAX_AGE_S = 1.0  # public-key rows may be this old on a scan; a refusal re-reads them
_REFUSED = (signing.SignatureInvalid, signing.UnknownKey, signing.KeyOutsideWindow)


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # authentic, revoked, and replaced by a reissued certificate
    NOT_FOUND = "not_found"
    FORGED = "forged"


@dataclass(frozen=True)
class Record:
    """One certificate as the public page shows it: no notes, staff accounts or secrets."""

    id: int
    number: str
    kid: str
    url_signature: str
    status: str
    revoke_reason: str | None
    superseded_by: str | None
    replacement_url: str | None  # the reissued certificate's QR link
    photo_sha256: str | None
    issued_at: datetime
    pdf_sha256: str  # the signed certificate PDF as issued (storage "certificates")
    body_name_en: str | None
    seal_no: str | None
    coverage: Coverage  # the order's programme, and whether a claim can be filed now
    owner_registered_at: datetime | None  # ownership registered with the check code
    scans: scans.Counts


@dataclass(frozen=True)
class ProofPhoto:
    """One photo of the signed intake set, as the consumer page shows it: its route serves
    the stored bytes only when they are the signed ones (storage.load checks the digest)."""

    view: str
    sha256: str
    url: str


@dataclass(frozen=True)
class PublicView:
    verdict: Verdict
    number: str
    record: Record | None = None
    payload: dict[str, Any] | None = None  # the signed certificate content

    @property
    def photo_url(self) -> str | None:
        """The page's large photo: the signed front photo; the item's latest photo for a
        certificate signed before the intake set."""
        r = self.record
        if r is None or self.no_photo is not None:
            return None
        front = next((digest for view, digest in self.signed_photos() if view == "front"), None)
        if front is not None:
            return signing.qr_path(r.number, r.kid, r.url_signature, f"/photos/{front}.jpg")
        if r.photo_sha256 is None:
            return None
        return signing.qr_path(r.number, r.kid, r.url_signature, "/photo.jpg")

    @property
    def qr_url(self) -> str | None:
        """The page as the printed QR opens it: what a result reached by the check code links
        to for another language (the check code is never put in a URL)."""
        r = self.record
        return None if r is None else signing.qr_path(r.number, r.kid, r.url_signature)

    @property
    def pdf_url(self) -> str | None:
        r = self.record
        return (
            None
            if r is None
            else signing.qr_path(r.number, r.kid, r.url_signature, "/certificate.pdf")
        )

    @property
    def no_photo(self) -> Message | None:
        """Why the item was received without photos, in words, when the certificate signs a
        reason (the merchant's own photo is then not shown as the piece's)."""
        proof = (self.payload or {}).get("proof") or {}
        return no_photo_words(proof["no_photo"]) if proof.get("no_photo") else None

    def signed_photos(self) -> list[tuple[str, str]]:
        """(view, SHA-256) of the intake set the certificate signs; none for older ones."""
        proof = (self.payload or {}).get("proof") or {}
        return [(p["view"], p["sha256"]) for p in proof.get("photos", [])]


def proof_photos(view: PublicView) -> list[ProofPhoto]:
    """The signed intake photos with their links. Nothing is read here: the page is the hot
    path (three loads cost 90 ms on S3), and the browser fetches each photo anyway, through a
    route that refuses bytes other than the signed ones; the page says which ones failed."""
    r = view.record
    if r is None:
        return []
    return [
        ProofPhoto(
            name, digest, signing.qr_path(r.number, r.kid, r.url_signature, f"/photos/{digest}.jpg")
        )
        for name, digest in view.signed_photos()
    ]


# Built from constant fragments only; every value is a bound parameter.
_RECORD = (
    text(
        "SELECT c.id, c.number, c.kid, c.url_signature, c.status, c.revoke_reason, "  # noqa: S608
        "c.superseded_by, c.payload, c.signature, c.issued_at, c.check_code_hash, "
        "c.owner_registered_at, c.pdf_sha256, "
        "r.number AS r_number, r.kid AS r_kid, r.url_signature AS r_url_signature, "
        "(SELECT sha256 FROM photos WHERE item_id = c.item_id ORDER BY id DESC LIMIT 1) AS photo, "
        "b.name_en AS body_name_en, o.seal_no, o.created_at AS placed_at, o.delivered_at, "
        "p.code, p.name_zh, p.name_en, p.multiplier, p.window_days, p.starts_at, p.ends_at, "
        + guarantee_in_force("o.merchant_id", "o.listing_id", "o.created_at")
        + " AS offered, "
        # 假一赔十 pays once per order: the claims' own definition of a claim that holds it.
        "EXISTS (SELECT 1 FROM claims cl WHERE cl.order_id = o.id AND cl."
        + ACTIVE_STATES_SQL
        + ") AS claimed, "
        + scans.aggregate_columns("c.id")
        + " FROM certificates c"
        " JOIN items i ON i.id = c.item_id"
        " JOIN inspections ins ON ins.id = c.inspection_id"
        " JOIN testing_bodies b ON b.id = ins.testing_body_id"
        " LEFT JOIN certificates r ON r.number = c.superseded_by"
        " LEFT JOIN orders o ON o.id = i.order_id"
        " LEFT JOIN programmes p ON p.id = o.programme_id"
        " WHERE c.number = :number"
    )
    .bindparams(
        bindparam("hour", type_=DateTime())  # stored as scan_hours.hour is, on both databases
    )
    .columns(
        # Typed, so both databases return aware datetimes (SQLite keeps them as text).
        issued_at=UTCDateTime(),
        owner_registered_at=UTCDateTime(),
        placed_at=UTCDateTime(),
        delivered_at=UTCDateTime(),
        starts_at=UTCDateTime(),
        ends_at=UTCDateTime(),
        scans_first=DateTime(),
    )
)


def _coverage(row: Any, now: datetime) -> Coverage:
    terms = None
    if row.code is not None:
        terms = Terms(
            row.code,
            row.name_zh,
            row.name_en,
            row.multiplier,
            row.window_days,
            row.starts_at,
            row.ends_at,
        )
    facts = Facts(
        certificate_valid=row.status == CertificateStatus.VALID,
        superseded=row.superseded_by is not None,
        terms=terms,
        placed_at=row.placed_at,
        delivered_at=row.delivered_at,
        offered=bool(row.offered),
        claimed=bool(row.claimed),
    )
    return decide(facts, now)


def _record(row: Any, now: datetime) -> Record:
    replacement_url = (
        signing.qr_path(row.r_number, row.r_kid, row.r_url_signature) if row.r_number else None
    )
    return Record(
        id=row.id,
        number=row.number,
        kid=row.kid,
        url_signature=row.url_signature,
        status=row.status,
        revoke_reason=row.revoke_reason,
        superseded_by=row.superseded_by,
        replacement_url=replacement_url,
        photo_sha256=row.photo,
        issued_at=row.issued_at,
        pdf_sha256=row.pdf_sha256,
        body_name_en=row.body_name_en,
        seal_no=row.seal_no,
        coverage=_coverage(row, now),
        owner_registered_at=row.owner_registered_at,
        scans=scans.counts_of(row, scans.hour_of(now)),
    )


def _verified(session: Session, check: Callable[[signing.Verifier], None]) -> bool:
    """Keys read up to KEYS_MAX_AGE_S ago; a refusal is only final against freshly read keys."""
    for max_age_s in (KEYS_MAX_AGE_S, 0.0):
        try:
            check(verifier(session, max_age_s=max_age_s))
            return True
        except _REFUSED:
            continue
    return False


def _view(session: Session, row: Any, now: datetime) -> PublicView:
    data = row.payload.encode("utf-8")
    if not _verified(
        session, lambda keys: keys.verify(data, row.signature, row.kid, at=row.issued_at)
    ):
        # The stored record does not carry our signature: it was altered in the database.
        return PublicView(Verdict.FORGED, row.number)
    signed = json.loads(data)
    if signed.get("number") != row.number:
        # A genuine payload moved onto another number's row: altered in the database.
        return PublicView(Verdict.FORGED, row.number)
    record = _record(row, now)
    if record.status == CertificateStatus.VALID:
        verdict = Verdict.VALID
    else:
        verdict = Verdict.SUPERSEDED if record.replacement_url else Verdict.REVOKED
    return PublicView(verdict, record.number, record, signed)


def _find(session: Session, number: str, now: datetime) -> Any:
    params = {"number": number, "hour": scans.hour_of(now)}
    with single_read(session) as connection:
        return connection.execute(_RECORD, params).first()  # Core: no ORM on this path


def by_qr(*, session: Session, number: str, kid: str, signature: str, now: datetime) -> PublicView:
    """The QR we printed carries the signature stored with the certificate: then the signed
    payload (checked in _view, and bound to the number) is the proof, and the QR's own
    signature need not be verified again. Any other signature is verified: a code we did not
    make is forged; a genuine code without a record is not found."""
    number = normalize(number)
    row = _find(session, number, now) if is_certificate_number(number) else None
    as_printed = row is not None and kid == row.kid and _same(signature, row.url_signature)
    if not as_printed:
        if not _verified(session, lambda keys: keys.verify_url(number, signature, kid)):
            return PublicView(Verdict.FORGED, number)
        if row is None:
            return PublicView(Verdict.NOT_FOUND, number)
    return _view(session, row, now)


class QrFile(StrEnum):
    """A file a QR link leads to, besides the page."""

    PDF = "pdf"  # the signed certificate PDF as issued
    PHOTO = "photo"  # the item's latest photo (certificates signed before the intake set)
    PROOF = "proof"  # one photo of the intake set, by its digest


_FILE_DIGEST = {
    QrFile.PDF: "c.pdf_sha256",
    QrFile.PHOTO: "(SELECT sha256 FROM photos WHERE item_id = c.item_id ORDER BY id DESC LIMIT 1)",
    QrFile.PROOF: "(SELECT sha256 FROM photos WHERE item_id = c.item_id AND sha256 = :digest"
    " AND view IS NOT NULL LIMIT 1)",
}
_FILE = {
    kind: text(
        f"SELECT c.kid, c.url_signature, {digest} AS sha256"  # noqa: S608  # constant fragments
        " FROM certificates c WHERE c.number = :number"
    )
    for kind, digest in _FILE_DIGEST.items()
}


def file_behind_qr(
    *, session: Session, number: str, kid: str, signature: str, kind: QrFile, digest: str = ""
) -> str | None:
    """The stored digest of the one file a QR link asks for, or None. Reads only that: one
    small query, no page record, no signature check, because the link must carry the very
    signature stored with the certificate (the one we printed). The bytes are then loaded by
    their digest (storage.load refuses bytes that are not those). An intake-set photo is one of
    the certificate's item's intake views: the views its payload signs."""
    number = normalize(number)
    if not is_certificate_number(number):
        return None
    with single_read(session) as connection:
        found = connection.execute(_FILE[kind], {"number": number, "digest": digest}).first()
    if found is None or kid != found.kid or not _same(signature, found.url_signature):
        return None
    return found.sha256  # type: ignore[no-any-return]


def _same(given: str, stored: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), stored.encode("utf-8"))


def by_code(
    *, session: Session, number: str, check_code: str, key: bytes, now: datetime
) -> PublicView:
    """Typed number + check code. A wrong code reads as not found, so numbers can't be probed.
    `key`: Config.CHECK_CODE_KEY, under which the code's digest was stored."""
    number = normalize(number)
    if not is_certificate_number(number):
        return PublicView(Verdict.NOT_FOUND, number)
    row = _find(session, number, now)
    if row is None or not check_code_matches(key, number, check_code, row.check_code_hash):
        return PublicView(Verdict.NOT_FOUND, number)
    return _view(session, row, now)


class AlreadyRegistered(Conflict):
    """A second registration of ownership: refused, saying when the first one was made."""

    code = "already_registered"

    def __init__(self, registered_at: datetime, zone: tzinfo) -> None:
        day = local_time(registered_at, zone, "%Y-%m-%d")
        super().__init__(
            msg("该证书已于 {day} 登记过物主，不能再次登记。", day=day),
        )
        self.registered_at = registered_at


def register_owner(
    *, session: Session, number: str, check_code: str, key: bytes, now: datetime, zone: tzinfo
) -> Certificate:
    """The buyer registers ownership with the check code (security.md §4: the one-time secret
    printed on the certificate, never in the QR). Once per certificate: a conditional UPDATE,
    so of any number of parallel registrations exactly one wins and every other is refused with
    the winner's date. A wrong code reads as not found, as on the verify form (the view spends
    the same budget). Nothing about the person is stored: the time is the registration, told
    in `zone` to whoever tries again."""
    number = normalize(number)
    found = (
        session.exec(select(Certificate).where(Certificate.number == number)).first()
        if is_certificate_number(number)
        else None
    )
    if found is None or not check_code_matches(key, number, check_code, found.check_code_hash):
        raise NotFound(msg("未找到证书（请核对证书编号和校验码）"))
    with write(session):
        claimed = session.connection().execute(
            update(Certificate)
            .where(
                col(Certificate.id) == found.id,
                col(Certificate.owner_registered_at).is_(None),
                col(Certificate.status) == CertificateStatus.VALID,
            )
            .values(owner_registered_at=now)
        )
        won = claimed.rowcount == 1
        if won:
            audit.record(
                session,
                actor=None,
                action="owner_registered",
                entity="certificate",
                entity_id=number,
                at=now,
            )
    session.refresh(found)
    if won:
        return found
    if found.owner_registered_at is not None:
        raise AlreadyRegistered(found.owner_registered_at, zone)
    raise Conflict(msg("证书已吊销，不能登记物主"))
