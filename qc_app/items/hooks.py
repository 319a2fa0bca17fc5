"""How an item's timeline hears of what happens to it elsewhere: a claim decided on its order,
its certificate revoked or reissued. Hooks connected at start-up (create_app); items build
below claims and certificates, so the objects arrive as protocols, never imported.

Each runs inside the transaction of the change, so the timeline and the change agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.items.models import Item


class DecidedClaim(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def order_id(self) -> int: ...

    @property
    def payout_fen(self) -> int | None: ...

    @property
    def decision_note(self) -> str | None: ...


class RetiredCertificate(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def item_id(self) -> int: ...

    @property
    def revoke_reason(self) -> str | None: ...


def claim_decided(
    name: str,
    *,
    obj: DecidedClaim,
    actor: User,
    session: Session | None = None,
    now: datetime | None = None,
    **_: Any,
) -> None:
    """claim_upheld / claim_rejected on the timeline of the item sold in the claim's order
    (a transition run without a session, in a unit test, has nothing to record into)."""
    if session is None or now is None:
        return
    item = session.exec(select(Item).where(Item.order_id == obj.order_id)).first()
    if item is None:
        return
    details: dict[str, Any] = {"claim": obj.number, "note": obj.decision_note}
    if name == "uphold":
        details["payout"] = obj.payout_fen
    audit.record(
        session,
        actor=actor,
        action="claim_upheld" if name == "uphold" else "claim_rejected",
        entity="item",
        entity_id=item.code,
        at=now,
        **details,
    )


def certificate_retired(
    name: str,
    *,
    obj: RetiredCertificate,
    actor: User,
    session: Session | None = None,
    now: datetime | None = None,
    **_: Any,
) -> None:
    """certificate_revoked / certificate_reissued on the timeline of the certificate's item."""
    if session is None or now is None:
        return
    item = session.get(Item, obj.item_id)
    if item is None:
        return
    audit.record(
        session,
        actor=actor,
        action="certificate_revoked" if name == "revoke" else "certificate_reissued",
        entity="item",
        entity_id=item.code,
        at=now,
        certificate=obj.number,
        reason=obj.revoke_reason,
    )
