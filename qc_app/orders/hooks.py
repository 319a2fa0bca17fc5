"""How an order follows its item: hooks on the item machine, connected by `connect` at start-up.

Each runs inside the transaction of the item's transition, so the item and its order change
together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from qc_app import lifecycle
from qc_app.auth.models import User
from qc_app.inspection.services import decisive_reasons, latest_approved
from qc_app.items import workflow as items
from qc_app.items.models import Item
from qc_app.orders import workflow
from qc_app.orders.models import Order

# The item transition → the order transition it drives, and the moment the order records.
FOLLOWS = {"pack": "packed_at", "ship": "shipped_at", "deliver": "delivered_at"}


def _order(session: Session, item: Item) -> Order | None:
    return session.get(Order, item.order_id) if item.order_id is not None else None


def follow_item(
    name: str, *, obj: Item, actor: User, session: Session, now: datetime, **_: Any
) -> None:
    """The item was packed, shipped or delivered: so is its order (no event of its own; the
    item's event names the order)."""
    order = _order(session, obj)
    if order is None:
        return
    setattr(order, FOLLOWS[name], now)
    workflow.MACHINE.transition(order, name, actor, session=session, now=now)
    session.add(order)


def cancel_for_failed_item(
    name: str, *, obj: Item, actor: User, session: Session, now: datetime, **_: Any
) -> None:
    """The item of an order failed QC: the order is cancelled with the reason, and the consumer
    notice is recorded for the platform to deliver."""
    order = _order(session, obj)
    if order is None or order.state not in workflow.MACHINE.transitions["cancel"].sources:
        return
    order.cancel_reason = _failure_reason(session, obj)[:300]
    order.cancelled_at = now
    lifecycle.apply(
        session,
        workflow.MACHINE,
        order,
        "cancel",
        actor=actor,
        now=now,
        entity="order",
        entity_id=order.order_no,
        action="order_cancelled",
        item=obj.code,
        reason=order.cancel_reason,
        notify="consumer",
    )


def _failure_reason(session: Session, item: Item) -> str:
    reasons = decisive_reasons(latest_approved(session=session, item=item))
    texts = [str(r["zh"]) for r in reasons if r.get("zh")]
    return "检测不合格：" + ("；".join(texts) if texts else "见检测报告")


class UpheldClaim(Protocol):
    """A claim as the order sees it (orders build below claims: no import of claims)."""

    @property
    def number(self) -> str: ...

    @property
    def order_id(self) -> int: ...

    @property
    def payout_fen(self) -> int | None: ...


def compensate_for_upheld_claim(
    name: str, *, obj: UpheldClaim, actor: User, session: Session, now: datetime, **_: Any
) -> None:
    """假一赔十 upheld: the order reads the outcome (理赔成立，已赔付), not 已签收, in the
    transaction of the decision. Connected by create_app (claims build on orders)."""
    order = session.get(Order, obj.order_id)
    if order is None or order.state not in workflow.MACHINE.transitions["compensate"].sources:
        return
    lifecycle.apply(
        session,
        workflow.MACHINE,
        order,
        "compensate",
        actor=actor,
        now=now,
        entity="order",
        entity_id=order.order_no,
        action="order_compensated",
        claim=obj.number,
        payout_fen=obj.payout_fen,
    )


def connect() -> None:
    for name in FOLLOWS:
        items.MACHINE.changed.connect(follow_item, sender=name)
    items.MACHINE.changed.connect(cancel_for_failed_item, sender="approve_fail")
