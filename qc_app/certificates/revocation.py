"""Revoking a certificate, and reissuing one: the old revoked and its replacement issued from
the same approved result, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import PLATFORM, authorize
from qc_app.certificates.issuance import (
    Issued,
    IssuingSetup,
    context_of,
    prepare,
    signers_for,
    store_then_commit,
)
from qc_app.certificates.lookup import get_certificate
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.db import write
from qc_app.errors import Conflict, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.items.models import Item


def _mark_revoked(certificate: Certificate, reason: str, now: datetime) -> None:
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoke_reason = reason[:300]


def revoke(
    *, session: Session, actor: User, number: str, reason: str, now: datetime
) -> Certificate:
    authorize(actor, PLATFORM)
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
    authorize(actor, PLATFORM)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(msg("重新签发需要原因"))
    old = get_certificate(session=session, actor=actor, number=number)
    _ensure_valid(old)  # before anything is signed: no replacement PDF for a refused reissue
    item = session.get(Item, old.item_id)
    if item is None:
        raise NotFound(msg("未找到物品"))
    context = context_of(session, item)
    signers = signers_for(session=session, setup=setup, body=context[1], now=now)
    prepared = prepare(
        session=session,
        actor=actor,
        item=item,
        context=context,
        signers=signers,
        setup=setup,
        now=now,
    )
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

    store_then_commit(session, setup, prepared, commit)
    return Issued(new, prepared.check_code, prepared.verify_url)


def _ensure_valid(certificate: Certificate) -> None:
    if certificate.status != CertificateStatus.VALID:
        raise Conflict(
            msg("只能重新签发有效的证书"),
            code="illegal_transition",
        )  # fmt: skip
