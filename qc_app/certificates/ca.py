"""The PDF (PAdES) signing credentials: the platform CA and one certificate per testing body,
which the CA vouches for."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.certificates import pades, pki, signing
from qc_app.certificates.models import CredentialKind, PdfSigningCredential
from qc_app.db import write
from qc_app.errors import Conflict, NotFound
from qc_app.i18n import msg
from qc_app.inspection.models import TestingBody

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


def ensure_body_credential(
    *, session: Session, passphrase: str, body_code: str, now: datetime
) -> PdfSigningCredential:
    """The body's current signing certificate; a body without one gets one from the platform
    CA (and the CA is created if absent), each committed in its own transaction."""
    credential = body_credential(session, body_code)
    if credential is not None:
        return credential
    return issue_body_credential(
        session=session, actor=None, passphrase=passphrase, body_code=body_code, now=now
    )


def ensure_pdf_signing(
    *, session: Session, passphrase: str, now: datetime
) -> list[PdfSigningCredential]:
    """The CA and a signing certificate for every testing body, created where absent."""
    ensure_platform_ca(session=session, passphrase=passphrase, now=now)
    for body in session.exec(select(TestingBody).order_by(col(TestingBody.id))).all():
        ensure_body_credential(session=session, passphrase=passphrase, body_code=body.code, now=now)
    return pdf_credentials(session)


def pades_signer_for(session: Session, passphrase: str, body: TestingBody) -> pades.PadesSigner:
    """The body's PDF signer. Reads only: `ensure_body_credential` creates a missing one."""
    credential = body_credential(session, body.code)
    ca = platform_ca(session)
    if credential is None or ca is None:
        raise Conflict(
            msg("检测机构没有 PDF 签名证书，请运行 flask qc ca init"),
        )
    return pades.cached_signer(
        credential.certificate_pem, credential.private_key_pem, ca.certificate_pem, passphrase
    )


def ca_jwk(ca: PdfSigningCredential) -> dict[str, Any]:
    """The CA as a JWK with its certificate chain (`x5c`), published with the signing keys."""
    certificate = pki.load_certificate(ca.certificate_pem)
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)  # pki.new_ca makes P-256 keys
    numbers_ = public_key.public_numbers()
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
