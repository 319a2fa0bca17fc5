"""How certificates react to other lifecycles: hooks connected at start-up (create_app).

A certificate does not know what a claim is: the hook reads only the claim's certificate id
and number, so this package keeps building on nothing but items, inspections and listings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from qc_app.auth.models import User
from qc_app.certificates import revocation
from qc_app.certificates.models import Certificate, CertificateStatus


class UpheldClaim(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def certificate_id(self) -> int: ...


def revoke_for_upheld_claim(
    name: str, *, obj: UpheldClaim, actor: User, session: Session, now: datetime, **_: Any
) -> None:
    """假一赔十 upheld: the certificate is revoked inside the uphold transaction, so the payout
    and the revocation commit together or not at all."""
    certificate = session.get(Certificate, obj.certificate_id)
    if certificate is None or certificate.status != CertificateStatus.VALID:
        return
    revocation.revoke(
        session=session,
        actor=actor,
        number=certificate.number,
        reason=f"假一赔十理赔成立 {obj.number}",
        now=now,
    )
