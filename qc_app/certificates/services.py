"""Issuing, revoking and serving certificates, and managing the Ed25519 signing keys.

Issuance does the slow part (payload, signature, PDF, file) before taking the write lock; the
row, the item's transition and the audit event then commit together. The PDF is stored before
the row, so a crash leaves at most an unreferenced file, never a number without a PDF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit, storage
from qc_app.access import ensure_visible
from qc_app.auth.models import User
from qc_app.certificates import numbers, payload, signing
from qc_app.certificates.fonts import find_cjk_font
from qc_app.certificates.layout import load_layout
from qc_app.certificates.models import Certificate, CertificateStatus, SigningKey
from qc_app.certificates.pdf import CertificateDocument, render_certificate_pdf
from qc_app.config import Config
from qc_app.db import write
from qc_app.errors import Conflict, Forbidden, ValidationFailed, not_found
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.inspection.services import latest_approved
from qc_app.intake import workflow
from qc_app.intake.models import Item
from qc_app.intake.services import apply, get_item, item_photos
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant


@dataclass(frozen=True)
class IssuingSetup:
    """What issuance needs from the deployment, passed in explicitly."""

    passphrase: str
    files: Path
    base_url: str
    certificates_dir: Path
    font: str | None

    @classmethod
    def from_config(cls, config: Config) -> IssuingSetup:
        return cls(
            passphrase=config.KEY_PASSPHRASE,
            files=config.INSTANCE_PATH,
            base_url=config.BASE_URL,
            certificates_dir=config.CERTIFICATES_DIR,
            font=config.CJK_FONT,
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
            "没有可用的签名密钥，请运行 flask qc keys init",
            "no signing key: run `flask --app qc_app qc keys init`",
        )
    return _signer(key.kid, key.private_key_pem, passphrase)


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(col(SigningKey.not_before))))


def verifier(session: Session) -> signing.Verifier:
    return signing.Verifier(
        [
            signing.public_key(k.kid, k.public_key, k.not_before, k.not_after)
            for k in all_keys(session)
        ]
    )


def jwks(session: Session) -> dict[str, Any]:
    return {
        "keys": [
            signing.jwk(
                signing.public_key(k.kid, k.public_key, k.not_before, k.not_after), k.public_key
            )
            for k in all_keys(session)
        ]
    }


# -- issuance ---------------------------------------------------------------------------------


def _context(
    session: Session, item: Item
) -> tuple[Inspection, TestingBody, Merchant, Listing, User, User]:
    inspection = latest_approved(session=session, item=item)
    if inspection is None:
        raise Conflict("该物品没有审核通过的检测结果", "the item has no approved inspection")
    body = session.get(TestingBody, inspection.testing_body_id)
    merchant = session.get(Merchant, item.merchant_id)
    listing = session.get(Listing, item.listing_id)
    analyst = session.get(User, inspection.analyst_id)
    reviewer = session.get(User, inspection.reviewer_id) if inspection.reviewer_id else None
    if not (body and merchant and listing and analyst and reviewer):
        raise Conflict("出证所需的记录不完整", "records needed for the certificate are missing")
    return inspection, body, merchant, listing, analyst, reviewer


def _measurement_rows(inspection: Inspection) -> tuple[tuple[str, str, str], ...]:
    from qc_app.rules.engine import load_ruleset

    fields = load_ruleset(inspection.rule_version).fields(inspection.family)
    values = json.loads(inspection.measurements)
    return tuple(
        (spec["label_zh"], spec["label_en"], f"{values[key]}{spec['unit']}".strip())
        for key, spec in fields.items()
        if key in values and spec["type"] != "text"
    )


def issue_certificate(
    *, session: Session, actor: User, code: str, setup: IssuingSetup, now: datetime
) -> Issued:
    item = get_item(session=session, actor=actor, code=code)
    inspection, body, merchant, listing, analyst, reviewer = _context(session, item)
    # Refuse before anything is signed or stored: no signed PDF may exist for a refused issue.
    workflow.check(item, "issue_certificate", actor, {"verdict": inspection.verdict})
    signer = signer_for(session, setup.passphrase)
    photos = item_photos(session=session, item=item)
    photo = photos[-1] if photos else None
    photo_bytes = storage.load(setup.files, "photos", photo.sha256, ".jpg") if photo else None
    measured = json.loads(inspection.measurements)
    number = numbers.new_certificate_number(body.cert_prefix)
    check_code = numbers.new_check_code()
    url_signature = signer.sign_url(number)
    url = f"{setup.base_url}/v/{number}?k={signer.kid}&s={url_signature}"
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
        measured={k: str(v) for k, v in measured.items() if k != "observations"},
        conclusion=inspection.verdict,
        photo_sha256=photo.sha256 if photo else None,
        issued_at=now.isoformat(timespec="seconds"),
        rule_version=inspection.rule_version,
        kid=signer.kid,
    )
    signature = signer.sign(signed)
    document = CertificateDocument(
        number=number,
        check_code=numbers.format_check_code(check_code),
        verify_url=url,
        issued_at=now,
        item_code=item.code,
        item_name_zh=inspection.material_name_zh,
        item_name_en=inspection.material_name_en,
        conclusion_zh="合格：检测结果与申报一致",
        conclusion_en="Pass: matches the declaration",
        measurements=_measurement_rows(inspection),
        mass_g=str(measured.get("mass_g", "")),
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
    )
    layout = load_layout(setup.certificates_dir, body.code)
    pdf = render_certificate_pdf(document, layout, font_path=find_cjk_font(setup.font))
    pdf_digest = storage.store(setup.files, "certificates", pdf, ".pdf")
    certificate = Certificate(
        number=number,
        item_id=item.id or 0,
        inspection_id=inspection.id or 0,
        check_code_hash=numbers.check_code_digest(number, check_code),
        payload=signed.decode("utf-8"),
        signature=signature,
        url_signature=url_signature,
        kid=signer.kid,
        issued_at=now,
        issued_by_id=actor.id or 0,
        status=CertificateStatus.VALID,
        pdf_sha256=pdf_digest,
    )
    with write(session):
        session.add(certificate)
        apply(
            session,
            item,
            "issue_certificate",
            actor,
            now,
            {"verdict": inspection.verdict},
            certificate=number,
            pdf_sha256=pdf_digest,
            kid=signer.kid,
        )
    return Issued(certificate, numbers.format_check_code(check_code), url)


# -- lookup, PDF, revocation ------------------------------------------------------------------


def find(session: Session, number: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.number == number)).first()


def get_certificate(*, session: Session, actor: User, number: str) -> Certificate:
    certificate = find(session, numbers.normalize(number))
    if certificate is None:
        raise not_found("证书", "certificate")
    item = session.get(Item, certificate.item_id)
    ensure_visible(actor, item.merchant_id if item else -1, "证书", "certificate")
    return certificate


def certificate_pdf(*, session: Session, actor: User, number: str, files: Path) -> bytes:
    certificate = get_certificate(session=session, actor=actor, number=number)
    return storage.load(files, "certificates", certificate.pdf_sha256, ".pdf")


def certificate_of(*, session: Session, item: Item) -> Certificate | None:
    query = select(Certificate).where(Certificate.item_id == item.id)
    return session.exec(query.order_by(col(Certificate.id).desc())).first()


def revoke(
    *, session: Session, actor: User, number: str, reason: str, now: datetime
) -> Certificate:
    if actor.role != "admin":
        raise Forbidden("只有平台管理员可以吊销证书", "only platform admins revoke certificates")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("吊销需要原因", "a revocation needs a reason")
    certificate = get_certificate(session=session, actor=actor, number=number)
    if certificate.status == CertificateStatus.REVOKED:
        raise Conflict(
            "证书已被吊销", "the certificate is already revoked", code="illegal_transition"
        )
    with write(session):
        certificate.status = CertificateStatus.REVOKED
        certificate.revoked_at = now
        certificate.revoke_reason = reason[:300]
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
