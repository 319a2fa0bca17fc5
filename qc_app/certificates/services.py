"""Issuing, revoking and serving certificates, and managing the Ed25519 signing keys.

Issuance does the slow part (payload, signature, PDF, file) before taking the write lock; the
row, the item's transition and the audit event then commit together. The PDF is stored before
the row, so a crash leaves at most an unreferenced file, never a number without a PDF.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session, col, select

from qc_app import audit, storage
from qc_app.access import ensure_visible
from qc_app.auth.models import User
from qc_app.certificates import numbers, pades, payload, pki, signing
from qc_app.certificates.fonts import find_cjk_font
from qc_app.certificates.layout import Layout, layout_path, load_layout
from qc_app.certificates.models import (
    Certificate,
    CertificateStatus,
    CredentialKind,
    IssuanceBatch,
    PdfSigningCredential,
    SigningKey,
)
from qc_app.certificates.pdf import CertificateDocument, render_certificate_pdf
from qc_app.certificates.properties import load_vocabulary, value_text
from qc_app.config import Config
from qc_app.db import write
from qc_app.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.inspection.services import latest_approved
from qc_app.intake import workflow
from qc_app.intake.models import Item
from qc_app.intake.services import apply, get_item, item_photos
from qc_app.intake.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.rules.engine import load_ruleset


@dataclass(frozen=True)
class IssuingSetup:
    """What issuance needs from the deployment, passed in explicitly."""

    passphrase: str
    files: Path
    base_url: str
    certificates_dir: Path
    font: str | None
    check_code_key: bytes  # only the keyed digest of a check code is stored (numbers.py)

    @classmethod
    def from_config(cls, config: Config) -> IssuingSetup:
        return cls(
            passphrase=config.KEY_PASSPHRASE,
            files=config.INSTANCE_PATH,
            base_url=config.BASE_URL,
            certificates_dir=config.CERTIFICATES_DIR,
            font=config.CJK_FONT,
            check_code_key=config.CHECK_CODE_KEY,
        )


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    check_code: str
    verify_url: str


# -- keys -------------------------------------------------------------------------------------


def ensure_signing_key(*, session: Session, passphrase: str, now: datetime) -> SigningKey:
    """The current signing key, created on first run."""
    key = current_key(session)
    if key is not None:
        return key
    new = signing.generate_key(passphrase)
    key = SigningKey(
        kid=new.kid, public_key=new.public_b64, private_key_pem=new.private_pem, not_before=now
    )
    with write(session):
        session.add(key)
        audit.record(
            session,
            actor=None,
            action="key_created",
            entity="signing_key",
            entity_id=new.kid,
            at=now,
        )
    return key


def current_key(session: Session) -> SigningKey | None:
    query = select(SigningKey).where(col(SigningKey.not_after).is_(None))
    return session.exec(query.order_by(col(SigningKey.not_before).desc())).first()


@lru_cache(maxsize=8)
def _signer(kid: str, private_pem: str, passphrase: str) -> signing.Signer:
    # Decrypting the key costs a KDF run; do it once per process and key.
    return signing.Signer(kid, private_pem, passphrase)


def signer_for(session: Session, passphrase: str) -> signing.Signer:
    key = current_key(session)
    if key is None:
        raise Conflict(
            msg("没有可用的签名密钥，请运行 flask qc keys init"),
        )
    return _signer(key.kid, key.private_key_pem, passphrase)


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(col(SigningKey.not_before))))


KeyRows = tuple[tuple[str, str, datetime, datetime | None], ...]


@lru_cache(maxsize=8)
def _verifier_for(rows: KeyRows) -> signing.Verifier:
    return signing.Verifier([signing.public_key(*row) for row in rows])


_recent_verifier: tuple[float, signing.Verifier] | None = None


def verifier(session: Session, *, max_age_s: float = 0.0) -> signing.Verifier:
    """Every public key with its window. The rows are read each call (one small query), so a
    rotated key is seen at once; the Ed25519 key objects are built only when the rows change.

    max_age_s > 0 (the consumer's page, on every scan): rows read by this process less than
    that long ago are used as they are; a caller that gets a refusal asks again with 0."""
    global _recent_verifier
    recent = _recent_verifier
    if max_age_s and recent is not None and time.monotonic() - recent[0] < max_age_s:
        return recent[1]
    query = select(
        SigningKey.kid, SigningKey.public_key, SigningKey.not_before, SigningKey.not_after
    ).order_by(col(SigningKey.not_before))
    keys = _verifier_for(tuple((r[0], r[1], r[2], r[3]) for r in session.exec(query)))
    _recent_verifier = (time.monotonic(), keys)
    return keys


def rotate_signing_key(
    *, session: Session, actor: User | None, passphrase: str, now: datetime
) -> SigningKey:
    """Retire the current key (its window closes now) and start a new one, in one transaction.

    Certificates signed before keep verifying: the retired key stays published with its window,
    and a payload claiming an issue time outside that window is refused."""
    new = signing.generate_key(passphrase)
    key = SigningKey(
        kid=new.kid, public_key=new.public_b64, private_key_pem=new.private_pem, not_before=now
    )
    with write(session):
        retired = current_key(session)
        if retired is not None:
            retired.not_after = now
            session.add(retired)
        session.add(key)
        audit.record(
            session,
            actor=actor,
            action="key_rotated",
            entity="signing_key",
            entity_id=new.kid,
            at=now,
            retired=retired.kid if retired else None,
        )
    return key


def jwks(session: Session) -> dict[str, Any]:
    """The public keys: every Ed25519 key with its window, and the platform CA as `x5c`.

    Members beyond RFC 7517: `nbf`/`exp` (seconds since the epoch) bound when a key may have
    signed; `qc_state` is `current` or `retired`; the CA entry has `qc_role: pdf-ca` and is
    the trust root of the PDF (PAdES) signatures."""
    keys = [
        signing.jwk(
            signing.public_key(k.kid, k.public_key, k.not_before, k.not_after), k.public_key
        )
        | {"qc_state": "current" if k.not_after is None else "retired"}
        for k in all_keys(session)
    ]
    ca = platform_ca(session)
    if ca is not None:
        keys.append(_ca_jwk(ca))
    return {"keys": keys}


def _ca_jwk(ca: PdfSigningCredential) -> dict[str, Any]:
    certificate = pki.load_certificate(ca.certificate_pem)
    numbers_ = certificate.public_key().public_numbers()  # type: ignore[union-attr]
    return {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
        "kid": f"ca-{ca.serial[:16]}",
        "x": signing.b64url(numbers_.x.to_bytes(32, "big")),
        "y": signing.b64url(numbers_.y.to_bytes(32, "big")),
        "x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()],
        "nbf": int(ca.not_before.timestamp()),
        "exp": int(ca.not_after.timestamp()),
        "qc_role": "pdf-ca",
    }


# -- PDF-signing certificates (platform CA, one per testing body) -----------------------------

CA_NAME = "QC Platform Certificate Authority"


def platform_ca(session: Session) -> PdfSigningCredential | None:
    query = select(PdfSigningCredential).where(
        PdfSigningCredential.kind == CredentialKind.CA,
        col(PdfSigningCredential.retired_at).is_(None),
    )
    return session.exec(query).first()


def body_credential(session: Session, body_code: str) -> PdfSigningCredential | None:
    query = select(PdfSigningCredential).where(
        PdfSigningCredential.kind == CredentialKind.BODY,
        PdfSigningCredential.body_code == body_code,
        col(PdfSigningCredential.retired_at).is_(None),
    )
    return session.exec(query.order_by(col(PdfSigningCredential.id).desc())).first()


def pdf_credentials(session: Session) -> list[PdfSigningCredential]:
    return list(session.exec(select(PdfSigningCredential).order_by(col(PdfSigningCredential.id))))


def _stored(
    kind: CredentialKind, credential: pki.Credential, now: datetime, body_code: str | None = None
) -> PdfSigningCredential:
    return PdfSigningCredential(
        kind=kind,
        body_code=body_code,
        subject=credential.subject[:300],
        serial=credential.serial,
        certificate_pem=credential.certificate_pem,
        private_key_pem=credential.private_key_pem,
        not_before=credential.not_before,
        not_after=credential.not_after,
        created_at=now,
    )


def ensure_platform_ca(*, session: Session, passphrase: str, now: datetime) -> PdfSigningCredential:
    """The platform CA, created on first use."""
    ca = platform_ca(session)
    if ca is not None:
        return ca
    row = _stored(
        CredentialKind.CA, pki.new_ca(common_name=CA_NAME, passphrase=passphrase, now=now), now
    )
    with write(session):
        session.add(row)
        audit.record(
            session, actor=None, action="pdf_ca_created", entity="pdf_credential",
            entity_id=row.serial, at=now,
        )  # fmt: skip
    return row


def issue_body_credential(
    *, session: Session, actor: User | None, passphrase: str, body_code: str, now: datetime
) -> PdfSigningCredential:
    """A new signing certificate for a testing body; its previous one is retired (PDFs it
    signed stay valid: they carry the certificate, and the CA still vouches for it)."""
    body = session.exec(select(TestingBody).where(TestingBody.code == body_code)).first()
    if body is None:
        raise NotFound(msg("未找到检测机构"))
    ca = ensure_platform_ca(session=session, passphrase=passphrase, now=now)
    credential = pki.issue_body_certificate(
        ca=pki.Credential(
            ca.certificate_pem,
            ca.private_key_pem,
            ca.serial,
            ca.subject,
            ca.not_before,
            ca.not_after,
        ),
        passphrase=passphrase,
        body_code=body.code,
        body_name=body.name_zh,
        now=now,
    )
    row = _stored(CredentialKind.BODY, credential, now, body.code)
    with write(session):
        previous = body_credential(session, body.code)
        if previous is not None:
            previous.retired_at = now
            session.add(previous)
        session.add(row)
        audit.record(
            session, actor=actor, action="pdf_certificate_issued", entity="pdf_credential",
            entity_id=row.serial, at=now, body=body.code,
            retired=previous.serial if previous else None,
        )  # fmt: skip
    return row


def ensure_pdf_signing(
    *, session: Session, passphrase: str, now: datetime
) -> list[PdfSigningCredential]:
    """The CA and a signing certificate for every testing body, created where absent."""
    ensure_platform_ca(session=session, passphrase=passphrase, now=now)
    for body in session.exec(select(TestingBody).order_by(col(TestingBody.id))).all():
        if body_credential(session, body.code) is None:
            issue_body_credential(
                session=session, actor=None, passphrase=passphrase, body_code=body.code, now=now
            )
    return pdf_credentials(session)


def pades_signer_for(
    session: Session, passphrase: str, body: TestingBody, now: datetime
) -> pades.PadesSigner:
    """The body's PDF signer; a body without a certificate gets one from the platform CA."""
    credential = body_credential(session, body.code)
    if credential is None:
        credential = issue_body_credential(
            session=session, actor=None, passphrase=passphrase, body_code=body.code, now=now
        )
    ca = platform_ca(session)
    assert ca is not None  # issue_body_credential created it
    return pades.cached_signer(
        credential.certificate_pem, credential.private_key_pem, ca.certificate_pem, passphrase
    )


# -- issuance ---------------------------------------------------------------------------------


def _context(
    session: Session, item: Item
) -> tuple[Inspection, TestingBody, Merchant, Listing, User, User]:
    inspection = latest_approved(session=session, item=item)
    if inspection is None:
        raise Conflict(msg("该物品没有审核通过的检测结果"))
    body = session.get(TestingBody, inspection.testing_body_id)
    merchant = session.get(Merchant, item.merchant_id)
    listing = session.get(Listing, item.listing_id)
    analyst = session.get(User, inspection.analyst_id)
    reviewer = session.get(User, inspection.reviewer_id) if inspection.reviewer_id else None
    if not (body and merchant and listing and analyst and reviewer):
        raise Conflict(msg("出证所需的记录不完整"))
    return inspection, body, merchant, listing, analyst, reviewer


@lru_cache(maxsize=32)
def _layout(certificates_dir: Path, body_code: str, _stamp: float) -> Layout:
    return load_layout(certificates_dir, body_code)


def layout_for(certificates_dir: Path, body_code: str) -> Layout:
    """The body's layout, parsed once per version of its file (an edit applies at once)."""
    stamp = layout_path(certificates_dir, body_code).stat().st_mtime
    return _layout(certificates_dir, body_code, stamp)


@dataclass(frozen=True)
class _Prepared:
    """A signed, rendered certificate not yet stored: the slow part, done outside the lock."""

    certificate: Certificate
    check_code: str
    verify_url: str
    pdf: bytes


def _prepare(
    *,
    session: Session,
    actor: User,
    item: Item,
    setup: IssuingSetup,
    now: datetime,
    context: tuple[Inspection, TestingBody, Merchant, Listing, User, User] | None = None,
) -> _Prepared:
    inspection, body, merchant, listing, analyst, reviewer = context or _context(session, item)
    signer = signer_for(session, setup.passphrase)
    pdf_signer = pades_signer_for(session, setup.passphrase, body, now)
    photos = item_photos(session=session, item=item)
    photo = photos[-1] if photos else None
    photo_bytes = storage.load(setup.files, "photos", photo.sha256, ".jpg") if photo else None
    measured = json.loads(inspection.measurements)
    number = numbers.new_certificate_number(body.cert_prefix)
    check_code = numbers.new_check_code()
    url_signature = signer.sign_url(number)
    url = setup.base_url + signing.qr_path(number, signer.kid, url_signature)
    signed = payload.certificate_payload(
        number=number,
        item={"code": item.code, "description": item.description},
        merchant={"id": str(merchant.id), "name": merchant.name},
        listing={"id": str(listing.id), "title": listing.title, "brand": listing.brand},
        testing_body={"code": body.code, "name": body.name_zh, "cma": body.cma_no},
        material={
            "code": inspection.material_code,
            "name_zh": inspection.material_name_zh,
            "name_en": inspection.material_name_en,
            "declared": item.declared_material,
        },
        measured={k: value_text(v) for k, v in measured.items() if k != "observations"},
        conclusion=inspection.verdict,
        photo_sha256=photo.sha256 if photo else None,
        issued_at=now.isoformat(timespec="seconds"),
        rule_version=inspection.rule_version,
        kid=signer.kid,
    )
    signature = signer.sign(signed)
    observations = measured.get("observations")
    document = CertificateDocument(
        number=number,
        check_code=numbers.format_check_code(check_code),
        verify_url=url,
        issued_at=now,
        item_code=item.code,
        item_name_zh=inspection.material_name_zh,
        item_name_en=inspection.material_name_en,
        conclusion_zh=f"{inspection.material_name_zh}，检测结果与申报一致",
        conclusion_en=f"{inspection.material_name_en}; matches the declaration",
        measurements=load_vocabulary(setup.certificates_dir).rows(
            measured, load_ruleset(inspection.rule_version).fields(inspection.family)
        ),
        merchant_name=merchant.name,
        listing_title=listing.title,
        testing_body_zh=body.name_zh,
        testing_body_en=body.name_en,
        cma_no=body.cma_no,
        cnas_no=body.cnas_no,
        analyst_name=analyst.display_name,
        reviewer_name=reviewer.display_name,
        photo_jpeg=photo_bytes,
        rule_version=inspection.rule_version,
        kid=signer.kid,
        payload_json=signed,
        signature_b64=signature,
        remarks=str(observations) if observations else None,
    )
    rendered = render_certificate_pdf(
        document, layout_for(setup.certificates_dir, body.code), font_path=find_cjk_font(setup.font)
    )
    pdf = pdf_signer.sign(rendered)
    certificate = Certificate(
        number=number,
        item_id=item.id or 0,
        inspection_id=inspection.id or 0,
        check_code_hash=numbers.check_code_digest(setup.check_code_key, number, check_code),
        payload=signed.decode("utf-8"),
        signature=signature,
        url_signature=url_signature,
        kid=signer.kid,
        issued_at=now,
        issued_by_id=actor.id or 0,
        status=CertificateStatus.VALID,
        pdf_sha256="",
    )
    return _Prepared(certificate, numbers.format_check_code(check_code), url, pdf)


def _store_then_commit(
    session: Session, setup: IssuingSetup, prepared: _Prepared, commit: Callable[[], None]
) -> None:
    """The PDF is on disk before the row commits, and removed again if the commit fails: no
    number without its PDF, no PDF without its row. (A power cut between the two can leave an
    unreferenced file; `sweep_orphan_pdfs` removes those.)"""
    digest = storage.store(setup.files, "certificates", prepared.pdf, ".pdf")
    prepared.certificate.pdf_sha256 = digest
    try:
        commit()
    except BaseException:
        storage.remove(setup.files, "certificates", digest, ".pdf")
        raise


def issue_certificate(
    *, session: Session, actor: User, code: str, setup: IssuingSetup, now: datetime
) -> Issued:
    item = get_item(session=session, actor=actor, code=code)
    context = _context(session, item)
    inspection = context[0]
    # Refuse before anything is signed or stored: no signed PDF may exist for a refused issue.
    workflow.check(item, "issue_certificate", actor, {"verdict": inspection.verdict})
    prepared = _prepare(
        session=session, actor=actor, item=item, setup=setup, now=now, context=context
    )
    certificate = prepared.certificate

    def commit() -> None:
        # The item is read again under the lock: of parallel issues only one finds it approved.
        with write(session, item):
            session.add(certificate)
            apply(
                session,
                item,
                "issue_certificate",
                actor,
                now,
                {"verdict": inspection.verdict},
                certificate=certificate.number,
                pdf_sha256=certificate.pdf_sha256,
                kid=certificate.kid,
            )

    _store_then_commit(session, setup, prepared, commit)
    return Issued(certificate, prepared.check_code, prepared.verify_url)


def sweep_orphan_pdfs(
    *, session: Session, files: Path, now: datetime, grace: timedelta = timedelta(minutes=10)
) -> list[str]:
    """Delete certificate PDFs no row refers to, older than `grace` (an issue in flight writes
    its PDF just before its row commits). Returns the digests removed."""
    referenced = set(session.exec(select(Certificate.pdf_sha256)).all())
    removed = []
    cutoff = (now - grace).timestamp()
    for path in sorted((files / "certificates").glob("*/*.pdf")):
        digest = path.stem
        if digest not in referenced and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(digest)
    return removed


# -- lookup, PDF, revocation ------------------------------------------------------------------


def find(session: Session, number: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.number == number)).first()


def get_certificate(*, session: Session, actor: User, number: str) -> Certificate:
    certificate = find(session, numbers.normalize(number))
    if certificate is None:
        raise NotFound(msg("未找到证书"))
    item = session.get(Item, certificate.item_id)
    ensure_visible(actor, item.merchant_id if item else -1, msg("未找到证书"))
    return certificate


def certificate_pdf(*, session: Session, actor: User, number: str, files: Path) -> bytes:
    certificate = get_certificate(session=session, actor=actor, number=number)
    return storage.load(files, "certificates", certificate.pdf_sha256, ".pdf")


def certificate_of(*, session: Session, item: Item) -> Certificate | None:
    query = select(Certificate).where(Certificate.item_id == item.id)
    return session.exec(query.order_by(col(Certificate.id).desc())).first()


def _mark_revoked(certificate: Certificate, reason: str, now: datetime) -> None:
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoke_reason = reason[:300]


def revoke(
    *, session: Session, actor: User, number: str, reason: str, now: datetime
) -> Certificate:
    if actor.role != "admin":
        raise Forbidden(msg("只有平台管理员可以吊销证书"))
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(msg("吊销需要原因"))
    certificate = get_certificate(session=session, actor=actor, number=number)
    with write(session, certificate):
        if certificate.status == CertificateStatus.REVOKED:
            raise Conflict(msg("证书已被吊销"), code="illegal_transition")
        _mark_revoked(certificate, reason, now)
        session.add(certificate)
        audit.record(
            session,
            actor=actor,
            action="certificate_revoked",
            entity="certificate",
            entity_id=certificate.number,
            at=now,
            reason=certificate.revoke_reason,
        )
    return certificate


def reissue(
    *, session: Session, actor: User, number: str, reason: str, setup: IssuingSetup, now: datetime
) -> Issued:
    """Revoke a valid certificate and issue its replacement from the same approved result;
    the old one points to the new one (`superseded_by`) and back (`reissue_of`)."""
    if actor.role != "admin":
        raise Forbidden(msg("只有平台管理员可以重新签发证书"))
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(msg("重新签发需要原因"))
    old = get_certificate(session=session, actor=actor, number=number)
    _ensure_valid(old)  # before anything is signed: no replacement PDF for a refused reissue
    item = session.get(Item, old.item_id)
    if item is None:
        raise NotFound(msg("未找到物品"))
    prepared = _prepare(session=session, actor=actor, item=item, setup=setup, now=now)
    new = prepared.certificate
    new.reissue_of = old.number

    def commit() -> None:
        with write(session, old):
            _ensure_valid(old)  # again under the lock: of parallel reissues one finds it valid
            _mark_revoked(old, reason, now)
            old.superseded_by = new.number
            session.add(old)
            # The old row leaves 'valid' before the new one arrives (one valid per item).
            session.flush()
            session.add(new)
            audit.record(
                session,
                actor=actor,
                action="certificate_reissued",
                entity="certificate",
                entity_id=old.number,
                at=now,
                replacement=new.number,
                reason=old.revoke_reason,
                pdf_sha256=new.pdf_sha256,
            )

    _store_then_commit(session, setup, prepared, commit)
    return Issued(new, prepared.check_code, prepared.verify_url)


def _ensure_valid(certificate: Certificate) -> None:
    if certificate.status != CertificateStatus.VALID:
        raise Conflict(
            msg("只能重新签发有效的证书"),
            code="illegal_transition",
        )  # fmt: skip


# -- batch issuance ---------------------------------------------------------------------------

BATCH_LIMIT = 500
# Whoever may issue one certificate may start a batch, and nobody else: a batch started by a
# role the transition refuses would only collect a failure per item.
BATCH_ROLES = tuple(sorted(workflow.TRANSITIONS["issue_certificate"].roles))
# A step issues for about two seconds and whoever drives the batch (the progress page, the CLI)
# calls the next one at once: a batch with no sign of life for this long is not being driven
# any more (its process was killed, the page closed), and a step left holding it has died.
BATCH_LEASE = timedelta(seconds=30)


class BatchState(StrEnum):
    RUNNING = "running"
    INTERRUPTED = "interrupted"  # not finished, and nothing issues for it: resume it
    FINISHED = "finished"


@dataclass(frozen=True)
class BatchStatus:
    batch_id: int
    total: int
    issued: dict[str, str]  # item code -> certificate number
    failures: dict[str, str]  # item code -> why it was not issued
    pending: list[str]
    state: BatchState
    busy: bool = False  # this call issued nothing: another step holds the batch right now

    @property
    def finished(self) -> bool:
        return self.state == BatchState.FINISHED

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "total": self.total,
            "issued": len(self.issued),
            "failed": len(self.failures),
            "pending": len(self.pending),
            "finished": self.finished,
            "state": self.state.value,
            "busy": self.busy,
            "failures": self.failures,
            "certificates": self.issued,
        }


def _batch_actor(actor: User) -> None:
    if actor.role not in BATCH_ROLES:
        raise Forbidden(msg("只有质检员可以批量出证"))


def start_batch(*, session: Session, actor: User, codes: list[str], now: datetime) -> IssuanceBatch:
    """Record a tray of approved items to issue; issuing happens in `run_batch_step`."""
    _batch_actor(actor)
    codes = list(dict.fromkeys(numbers.normalize(code) for code in codes if code.strip()))
    if not codes:
        raise ValidationFailed(msg("没有选择物品"))
    if len(codes) > BATCH_LIMIT:
        raise ValidationFailed(msg("一批最多 {batch_limit} 件", batch_limit=BATCH_LIMIT))
    found = session.exec(select(Item).where(col(Item.code).in_(codes))).all()
    approved = {item.code for item in found if item.state == ItemState.APPROVED}
    if not_ready := [code for code in codes if code not in approved]:
        raise Conflict(
            msg(
                "以下物品不在待出证状态：{not_ready_zh}",
                not_ready_zh="、".join(not_ready[:10]),
                not_ready_en=", ".join(not_ready[:10]),
            ),
            code="illegal_transition",
        )
    batch = IssuanceBatch(
        created_by_id=actor.id or 0, created_at=now, item_codes=json.dumps(codes), failures="{}"
    )
    with write(session):
        session.add(batch)
        session.flush()
        audit.record(
            session, actor=actor, action="certificate_batch_started", entity="issuance_batch",
            entity_id=str(batch.id), at=now, items=len(codes),
        )  # fmt: skip
    return batch


def get_batch(*, session: Session, actor: User, batch_id: int) -> IssuanceBatch:
    _batch_actor(actor)
    batch = session.get(IssuanceBatch, batch_id)
    if batch is None:
        raise NotFound(msg("未找到出证批次"))
    return batch


def _batch_state(batch: IssuanceBatch, now: datetime) -> BatchState:
    if batch.finished_at is not None:
        return BatchState.FINISHED
    alive = batch.stepped_at or batch.created_at
    return BatchState.RUNNING if now - alive < BATCH_LEASE else BatchState.INTERRUPTED


def batch_status(
    session: Session, batch: IssuanceBatch, *, now: datetime, busy: bool = False
) -> BatchStatus:
    """Read from the items' certificates, so the figures are true even after a crash."""
    codes: list[str] = json.loads(batch.item_codes)
    items = {i.id: i.code for i in session.exec(select(Item).where(col(Item.code).in_(codes)))}
    certificates = session.exec(
        select(Certificate).where(
            col(Certificate.item_id).in_(list(items)),
            col(Certificate.issued_at) >= batch.created_at,
        )
    ).all()
    issued = {items[c.item_id]: c.number for c in certificates if c.reissue_of is None}
    failures = {
        code: message for code, message in json.loads(batch.failures).items() if code not in issued
    }
    pending = [code for code in codes if code not in issued and code not in failures]
    return BatchStatus(
        batch.id or 0, len(codes), issued, failures, pending, _batch_state(batch, now), busy
    )


def unfinished_batches(
    *, session: Session, actor: User, now: datetime, limit: int = 20
) -> list[BatchStatus]:
    """The batches not finished yet, newest first: running, or interrupted and waiting to be
    resumed (the batch page lists them)."""
    _batch_actor(actor)
    query = select(IssuanceBatch).where(col(IssuanceBatch.finished_at).is_(None))
    found = session.exec(query.order_by(col(IssuanceBatch.id).desc()).limit(limit)).all()
    return [batch_status(session, batch, now=now) for batch in found]


def run_batch_step(
    *,
    session: Session,
    actor: User,
    batch_id: int,
    setup: IssuingSetup,
    now: datetime,
    budget_seconds: float = 2.0,
) -> BatchStatus:
    """Issue pending items of the batch for about `budget_seconds`, each certificate in its
    own transaction (all or nothing per certificate), and report progress. Called again and
    again by the progress page (or the CLI) until nothing is pending; safe to repeat, and to
    call from two places at once: one step at a time holds the batch, the other returns busy.
    A step on an interrupted batch resumes it where it stands."""
    batch = get_batch(session=session, actor=actor, batch_id=batch_id)
    if not _take_step(session, actor, batch, now):
        return batch_status(session, batch, now=now, busy=batch.finished_at is None)
    started = time.monotonic()
    try:
        for code in batch_status(session, batch, now=now).pending:
            try:
                issue_certificate(session=session, actor=actor, code=code, setup=setup, now=now)
            except (DomainError, OSError) as exc:
                _record_failure(session, actor, batch, code, exc, now)
            if time.monotonic() - started >= budget_seconds:
                break
    finally:
        ended = now + timedelta(seconds=time.monotonic() - started)
        _end_step(session, actor, batch, ended)
    return batch_status(session, batch, now=ended)


def _take_step(session: Session, actor: User, batch: IssuanceBatch, now: datetime) -> bool:
    """Hold the batch for one step, unless it is finished or another live step holds it."""
    with write(session, batch):
        if batch.finished_at is not None:
            return False
        held = batch.step_started_at
        if held is not None and now - held < BATCH_LEASE:
            return False
        if _batch_state(batch, now) == BatchState.INTERRUPTED:
            audit.record(
                session, actor=actor, action="certificate_batch_resumed",
                entity="issuance_batch", entity_id=str(batch.id), at=now,
                last_step=(batch.stepped_at or batch.created_at).isoformat(),
                step_cut_short=held is not None,
            )  # fmt: skip
        batch.step_started_at = now
        batch.stepped_at = now
        session.add(batch)
    return True


def _end_step(session: Session, actor: User, batch: IssuanceBatch, now: datetime) -> None:
    """Let go of the batch; the step that finds nothing pending finishes it."""
    status = batch_status(session, batch, now=now)
    with write(session, batch):
        batch.step_started_at = None
        batch.stepped_at = now
        session.add(batch)
        if not status.pending and batch.finished_at is None:
            batch.finished_at = now
            audit.record(
                session, actor=actor, action="certificate_batch_finished",
                entity="issuance_batch", entity_id=str(batch.id), at=now,
                issued=len(status.issued), failed=len(status.failures),
            )  # fmt: skip


def _record_failure(
    session: Session,
    actor: User,
    batch: IssuanceBatch,
    code: str,
    exc: Exception,
    now: datetime,
) -> None:
    message = (
        f"{exc.message.render('zh')} / {exc.message.render('en')}"
        if isinstance(exc, DomainError)
        else f"存储失败 / storage failed: {exc}"
    )
    with write(session, batch):
        failures = json.loads(batch.failures)
        failures[code] = message[:300]
        batch.failures = json.dumps(failures, ensure_ascii=False)
        session.add(batch)
        audit.record(
            session, actor=actor, action="certificate_batch_item_failed",
            entity="issuance_batch", entity_id=str(batch.id), at=now, item=code,
            reason=message[:300],
        )  # fmt: skip
