"""The outbox listens to the lifecycles (STYLE.md 11): each transition the platform must act on
adds its event inside the transaction of the transition. Connected by `connect` at start-up.

Changes that are not transitions (a claim filed, an alarm, a merchant joining or leaving, a
listing's labels) call `events.emit` in their own service, as they call `audit.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from qc_app.certificates import workflow as certificates
from qc_app.certificates.models import Certificate
from qc_app.claims import workflow as claims
from qc_app.claims.models import Claim
from qc_app.items import workflow as items
from qc_app.items.models import Item
from qc_app.orders import workflow as orders
from qc_app.orders.models import Order
from qc_app.outbox.events import emit

# A transition run on a bare machine (a unit test of its table) has no transaction to join and
# no event to tell: the hooks run only with the `session` and `now` of a service's transition.
ITEM_EVENTS = {
    "receive": "item.received",
    "hold": "item.held",
    "release": "item.released",
    "approve_fail": "item.failed",
    "return_shipped": "item.returned",
    "issue_certificate": "certificate.issued",
}
ORDER_EVENTS = {
    "cancel": "order.cancelled",
    "pack": "order.packed",
    "ship": "order.shipped",
    "deliver": "order.delivered",
}
CLAIM_EVENTS = {
    "merchant_accept": "claim.accepted",
    "merchant_dispute": "claim.disputed",
    "uphold": "claim.decided",
    "reject": "claim.decided",
}
CERTIFICATE_EVENTS = {"revoke": "certificate.revoked", "reissue": "certificate.superseded"}


def item_data(item: Item) -> dict[str, Any]:
    return {
        "item_code": item.code,
        "listing_id": item.listing_id,
        "state": str(item.state),
    }


def order_data(session: Session, order_id: int | None) -> dict[str, Any]:
    order = session.get(Order, order_id) if order_id is not None else None
    return {} if order is None else {"order_no": order.order_no, "waybill_no": order.waybill_no}


def on_item(
    name: str,
    *,
    obj: Item,
    session: Session | None = None,
    now: datetime | None = None,
    details: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if session is None or now is None or details is None:
        return
    data = item_data(obj) | order_data(session, obj.order_id)
    if name == "issue_certificate":
        data["certificate_number"] = details["certificate"]
    if name == "hold":
        data["reason"] = obj.hold_reason
    if name == "return_shipped":
        data["return_waybill_no"] = obj.return_waybill_no
    emit(
        session,
        type=ITEM_EVENTS[name],
        subject=f"item:{obj.code}",
        merchant_id=obj.merchant_id,
        at=now,
        **data,
    )


def on_order(
    name: str, *, obj: Order, session: Session | None = None, now: datetime | None = None, **_: Any
) -> None:
    if session is None or now is None:
        return
    data: dict[str, Any] = {
        "order_no": obj.order_no,
        "waybill_no": obj.waybill_no,
        "listing_id": obj.listing_id,
        "state": str(obj.state),
    }
    if name == "cancel":
        data |= {"reason": obj.cancel_reason, "notify": "consumer"}
    if name == "pack":
        data["seal_no"] = obj.seal_no
    emit(
        session,
        type=ORDER_EVENTS[name],
        subject=f"order:{obj.order_no}",
        merchant_id=obj.merchant_id,
        at=now,
        **data,
    )


def claim_data(session: Session, claim: Claim) -> dict[str, Any]:
    data = {
        "claim_number": claim.number,
        "state": str(claim.state),
        "reason": str(claim.reason),
    }
    return data | order_data(session, claim.order_id)


def on_claim(
    name: str, *, obj: Claim, session: Session | None = None, now: datetime | None = None, **_: Any
) -> None:
    if session is None or now is None:
        return
    data = claim_data(session, obj)
    if name == "uphold":
        data |= {
            "upheld": True,
            "refund_fen": obj.refund_fen,
            "compensation_fen": obj.compensation_fen,
            "postage_fen": obj.postage_fen,
            "payout_fen": obj.payout_fen,
        }
    if name == "reject":
        data |= {"upheld": False, "ground": obj.rejection_ground}
    emit(
        session,
        type=CLAIM_EVENTS[name],
        subject=f"order:{data.get('order_no', obj.number)}",
        merchant_id=obj.merchant_id,
        at=now,
        **data,
    )


def on_certificate(
    name: str,
    *,
    obj: Certificate,
    session: Session | None = None,
    now: datetime | None = None,
    **_: Any,
) -> None:
    if session is None or now is None:
        return
    item = session.get_one(Item, obj.item_id)
    data = {
        "certificate_number": obj.number,
        "item_code": item.code,
        "reason": obj.revoke_reason,
    }
    if name == "reissue":
        data["superseded_by"] = obj.superseded_by
    emit(
        session,
        type=CERTIFICATE_EVENTS[name],
        subject=f"item:{item.code}",
        merchant_id=item.merchant_id,
        at=now,
        **data,
    )


def connect() -> None:
    table: list[tuple[Any, dict[str, str], Callable[..., None]]] = [
        (items.MACHINE, ITEM_EVENTS, on_item),
        (orders.MACHINE, ORDER_EVENTS, on_order),
        (claims.MACHINE, CLAIM_EVENTS, on_claim),
        (certificates.MACHINE, CERTIFICATE_EVENTS, on_certificate),
    ]
    for machine, names, hook in table:
        for name in names:
            machine.changed.connect(hook, sender=name)
