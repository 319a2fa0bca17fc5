"""The item lifecycle as data: states, a transition table, and one function that assigns state.

    DECLARED ─receive─► RECEIVED ─start_inspection─► IN_INSPECTION ─submit_result─► REVIEW
    REVIEW ─approve_pass─► APPROVED ─issue_certificate─► CERTIFIED ─pack─► PACKED ─ship─►
        SHIPPED ─deliver─► DELIVERED
    REVIEW ─approve_fail─► RETURN_TO_MERCHANT ─return_shipped─► RETURNED
    REVIEW ─send_back─► IN_INSPECTION            (reviewer asks for a retest)
    SHIPPED/DELIVERED ─claim_return─► RECEIVED   (a claim's re-inspection at the warehouse)
    any open state ─hold─► ON_HOLD ─release─► the state it was held from

Pure: no Flask, no session, no clock. Services call `transition` and persist the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from qc_app.errors import Forbidden, IllegalTransition
from qc_app.i18n import msg
from qc_app.intake import guards


class ItemState(StrEnum):
    DECLARED = "declared"
    RECEIVED = "received"
    IN_INSPECTION = "in_inspection"
    REVIEW = "review"
    APPROVED = "approved"
    CERTIFIED = "certified"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_TO_MERCHANT = "return_to_merchant"
    RETURNED = "returned"
    ON_HOLD = "on_hold"


STATE_LABELS: Mapping[ItemState, tuple[str, str]] = {
    ItemState.DECLARED: ("已申报", "Declared"),
    ItemState.RECEIVED: ("已收货", "Received"),
    ItemState.IN_INSPECTION: ("检测中", "In inspection"),
    ItemState.REVIEW: ("待审核", "Awaiting review"),
    ItemState.APPROVED: ("审核通过", "Approved"),
    ItemState.CERTIFIED: ("已出证", "Certified"),
    ItemState.PACKED: ("已打包", "Packed"),
    ItemState.SHIPPED: ("已发货", "Shipped"),
    ItemState.DELIVERED: ("已签收", "Delivered"),
    ItemState.RETURN_TO_MERCHANT: ("待退回商家", "Return to merchant"),
    ItemState.RETURNED: ("已退回", "Returned"),
    ItemState.ON_HOLD: ("挂起", "On hold"),
}

TERMINAL = frozenset({ItemState.DELIVERED, ItemState.RETURNED})
HOLDABLE = frozenset(ItemState) - TERMINAL - {ItemState.ON_HOLD}

Guard = Callable[["ItemLike", "ActorLike", Mapping[str, Any]], None]


class ActorLike(Protocol):
    id: int | None
    role: str


class ItemLike(Protocol):
    state: ItemState
    held_from: str | None
    received_by_id: int | None


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[ItemState]
    target: ItemState | None  # None: back to the state the item was held from
    roles: frozenset[str]
    guard: Guard
    label_zh: str
    label_en: str


def _t(
    name: str,
    sources: set[ItemState] | frozenset[ItemState],
    target: ItemState | None,
    roles: set[str],
    guard: Guard,
    zh: str,
    en: str,
) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(roles), guard, zh, en)


S = ItemState
LAB = {"analyst", "reviewer"}
TRANSITIONS: Mapping[str, Transition] = {
    t.name: t
    for t in (
        _t(
            "receive",
            {S.DECLARED},
            S.RECEIVED,
            {"inspector"},
            guards.guard_receive,
            "收货",
            "receive",
        ),
        _t(
            "start_inspection",
            {S.RECEIVED},
            S.IN_INSPECTION,
            LAB,
            guards.guard_start_inspection,
            "开始检测",
            "start inspection",
        ),
        _t(
            "submit_result",
            {S.IN_INSPECTION},
            S.REVIEW,
            LAB,
            guards.guard_submit_result,
            "提交检测结果",
            "submit result",
        ),
        _t(
            "approve_pass",
            {S.REVIEW},
            S.APPROVED,
            {"reviewer"},
            guards.guard_approve,
            "审核通过（合格）",
            "approve (pass)",
        ),
        _t(
            "approve_fail",
            {S.REVIEW},
            S.RETURN_TO_MERCHANT,
            {"reviewer"},
            guards.guard_approve,
            "审核通过（不合格）",
            "approve (fail)",
        ),
        _t(
            "send_back",
            {S.REVIEW},
            S.IN_INSPECTION,
            {"reviewer"},
            guards.guard_send_back,
            "退回复检",
            "send back for retest",
        ),
        _t(
            "issue_certificate",
            {S.APPROVED},
            S.CERTIFIED,
            {"inspector"},
            guards.guard_issue_certificate,
            "出具证书",
            "issue certificate",
        ),
        _t("pack", {S.CERTIFIED}, S.PACKED, {"inspector"}, guards.guard_pack, "打包", "pack"),
        _t("ship", {S.PACKED}, S.SHIPPED, {"inspector"}, guards.guard_none, "发货", "ship"),
        _t("deliver", {S.SHIPPED}, S.DELIVERED, {"admin"}, guards.guard_none, "签收", "deliver"),
        _t(
            "return_shipped",
            {S.RETURN_TO_MERCHANT},
            S.RETURNED,
            {"inspector"},
            guards.guard_none,
            "退回商家",
            "ship back to merchant",
        ),
        _t(
            # 假一赔十 claim (issue 5): the consumer's item comes back for re-inspection.
            "claim_return",
            {S.SHIPPED, S.DELIVERED},
            S.RECEIVED,
            {"admin"},
            guards.guard_hold,
            "理赔退回复检",
            "return for claim re-inspection",
        ),
        _t(
            "hold",
            HOLDABLE,
            S.ON_HOLD,
            {"inspector", "admin"},
            guards.guard_hold,
            "挂起",
            "put on hold",
        ),
        _t(
            "release",
            {S.ON_HOLD},
            None,
            {"inspector", "admin"},
            guards.guard_release,
            "解除挂起",
            "release hold",
        ),
    )
}


@dataclass(frozen=True)
class Change:
    transition: str
    before: ItemState
    after: ItemState


def check(
    item: ItemLike, name: str, actor: ActorLike, context: Mapping[str, Any] | None = None
) -> Transition:
    """Refuse (with a clear message) unless `name` may run now; changes nothing."""
    spec = TRANSITIONS[name]
    state = ItemState(item.state)
    if actor.role not in spec.roles:
        raise Forbidden(
            msg(
                "角色 {role} 不能执行“{label_zh}”",
                role=actor.role,
                label_zh=spec.label_zh,
                label_en=spec.label_en,
            ),
            code="role_not_allowed",
        )
    if state not in spec.sources:
        zh, en = STATE_LABELS[state]
        raise IllegalTransition(
            msg(
                "物品当前状态为“{text_zh}”，不能{label_zh}",
                text_zh=zh,
                label_zh=spec.label_zh,
                label_en=spec.label_en,
                lower_en=en.lower(),
            ),
        )
    spec.guard(item, actor, context or {})
    return spec


def transition(
    item: ItemLike, name: str, actor: ActorLike, context: Mapping[str, Any] | None = None
) -> Change:
    """The only place an item's state is assigned. Refuses with a clear message, changes nothing."""
    spec = check(item, name, actor, context)
    before = ItemState(item.state)
    after = spec.target if spec.target is not None else ItemState(item.held_from or "")
    item.held_from = before.value if name == "hold" else None
    item.state = after
    return Change(name, before, after)


def allowed(item: ItemLike, role: str) -> list[str]:
    """Transition names whose role and source state fit (guards not run): for showing buttons."""
    return [t.name for t in TRANSITIONS.values() if role in t.roles and item.state in t.sources]
