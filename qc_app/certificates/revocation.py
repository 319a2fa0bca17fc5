"""Revoking a certificate, and reissuing one: the old revoked and its replacement issued from
the same approved result, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from qc_app import audit
from qc_app.auth.models import User
from qc_app.certificates import guards, workflow
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
from qc_app.errors import NotFound
from qc_app.i18n import msg
from qc_app.items.models import Item
from qc_app.statemachine import Change


def _retire(
    session: Session,
    certificate: Certificate,
    name: str,
    actor: User,
    reason: guards.Reason,
    now: datetime,
    *,
    action: str,
    **details: object,
) -> None:
    """Run `name` (revoke or reissue) and record it as `action`, inside the caller's write."""

    def record(change: Change[CertificateStatus]) -> None:
        certificate.revoked_at = now
        certificate.revoke_reason = reason.text.strip()[:300]
        session.add(certificate)
        audit.record(
            session,
            actor=actor,
            action=action,
            entity="certificate",
            entity_id=certificate.number,
            at=now,
            reason=certificate.revoke_reason,
            **details,
        )

    workflow.MACHINE.transition(
        certificate, name, actor, reason, record=record, session=session, now=now
    )


def revoke(
    *, session: Session, actor: User, number: str, reason: str, now: datetime
) -> Certificate:
    certificate = get_certificate(session=session, actor=actor, number=number)
    with write(session, certificate):
        _retire(
            session,
            certificate,
            "revoke",
            actor,
            guards.Reason(reason),
            now,
            action="certificate_revoked",
        )
    return certificate


def reissue(
    *, session: Session, actor: User, number: str, reason: str, setup: IssuingSetup, now: datetime
) -> Issued:
    """Revoke a valid certificate and issue its replacement from the same approved result;
    the old one points to the new one (`superseded_by`) and back (`reissue_of`)."""
    old = get_certificate(session=session, actor=actor, number=number)
    facts = guards.Reason(reason)
    # Refused before anything is signed: no replacement PDF for a refused reissue.
    workflow.MACHINE.check(old, "reissue", actor, facts)
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
        # The old one is read again under the lock: of parallel reissues one finds it valid.
        with write(session, old):
            old.superseded_by = new.number
            _retire(
                session,
                old,
                "reissue",
                actor,
                facts,
                now,
                action="certificate_reissued",
                replacement=new.number,
                pdf_sha256=new.pdf_sha256,
            )
            # The old row leaves 'valid' before the new one arrives (one valid per item).
            session.flush()
            session.add(new)

    store_then_commit(session, setup, prepared, commit)
    return Issued(new, prepared.check_code, prepared.verify_url)
