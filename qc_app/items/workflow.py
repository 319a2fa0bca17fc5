"""The item lifecycle as data: states and a transition table for `qc_app.statemachine`.

    DECLARED ─receive─► RECEIVED ─start_inspection─► IN_INSPECTION ─submit_result─► REVIEW
    REVIEW ─approve_pass─► APPROVED ─issue_certificate─► CERTIFIED ─pack─► PACKED ─ship─►
        SHIPPED ─deliver─► DELIVERED
    REVIEW ─approve_fail─► RETURN_TO_MERCHANT ─return_shipped─► RETURNED
    REVIEW ─send_back─► IN_INSPECTION            (reviewer asks for a retest)
    REVIEW ─withdraw_result─► IN_INSPECTION      (the analyst takes the result back before review)
    SHIPPED/DELIVERED ─claim_return─► RECEIVED   (a claim's re-inspection at the warehouse)
    any open state ─hold─► ON_HOLD ─release─► the state it was held from

Pure: no Flask, no session, no clock. Services run `MACHINE.transition` and persist the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from qc_app.authz import LAB, Role
from qc_app.i18n import Message, pmsg
from qc_app.items import guards
from qc_app.statemachine import Change, NoFacts, StateMachine, Transition, row


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


# A state's name on its own (a badge, a table cell).
STATE_LABELS: Mapping[ItemState, Message] = {
    ItemState.DECLARED: pmsg("state", "已申报"),
    ItemState.RECEIVED: pmsg("state", "已收货"),
    ItemState.IN_INSPECTION: pmsg("state", "检测中"),
    ItemState.REVIEW: pmsg("state", "待审核"),
    ItemState.APPROVED: pmsg("state", "审核通过"),
    ItemState.CERTIFIED: pmsg("state", "已出证"),
    ItemState.PACKED: pmsg("state", "已打包"),
    ItemState.SHIPPED: pmsg("state", "已发货"),
    ItemState.DELIVERED: pmsg("state", "已签收"),
    ItemState.RETURN_TO_MERCHANT: pmsg("state", "待退回商家"),
    ItemState.RETURNED: pmsg("state", "已退回"),
    ItemState.ON_HOLD: pmsg("state", "挂起"),
}

# The same names inside a sentence ("cannot pack: the item is on hold"): lower-case English.
STATE_WORDS: Mapping[ItemState, Message] = {
    ItemState.DECLARED: pmsg("state in a sentence", "已申报"),
    ItemState.RECEIVED: pmsg("state in a sentence", "已收货"),
    ItemState.IN_INSPECTION: pmsg("state in a sentence", "检测中"),
    ItemState.REVIEW: pmsg("state in a sentence", "待审核"),
    ItemState.APPROVED: pmsg("state in a sentence", "审核通过"),
    ItemState.CERTIFIED: pmsg("state in a sentence", "已出证"),
    ItemState.PACKED: pmsg("state in a sentence", "已打包"),
    ItemState.SHIPPED: pmsg("state in a sentence", "已发货"),
    ItemState.DELIVERED: pmsg("state in a sentence", "已签收"),
    ItemState.RETURN_TO_MERCHANT: pmsg("state in a sentence", "待退回商家"),
    ItemState.RETURNED: pmsg("state in a sentence", "已退回"),
    ItemState.ON_HOLD: pmsg("state in a sentence", "挂起"),
}

TERMINAL = frozenset({ItemState.DELIVERED, ItemState.RETURNED})
HOLDABLE = frozenset(ItemState) - TERMINAL - {ItemState.ON_HOLD}

S = ItemState
INSPECTOR, REVIEWER, ADMIN = {Role.INSPECTOR}, {Role.REVIEWER}, {Role.ADMIN}
FLOOR = {Role.INSPECTOR, Role.ADMIN}
MACHINE: StateMachine[ItemState, Any] = StateMachine(
    states=ItemState,
    labels=STATE_LABELS,
    in_sentence=STATE_WORDS,
    noun=pmsg("noun", "物品"),
    hold="hold",
    transitions=[
        row(
            "receive",
            {S.DECLARED},
            S.RECEIVED,
            INSPECTOR,
            pmsg("action", "收货"),
            guards.guard_receive,
            guards.Weighing,
        ),
        row(
            "start_inspection",
            {S.RECEIVED},
            S.IN_INSPECTION,
            LAB,
            pmsg("action", "开始检测"),
            guards.guard_start_inspection,
            NoFacts,
        ),
        row(
            "submit_result",
            {S.IN_INSPECTION},
            S.REVIEW,
            LAB,
            pmsg("action", "提交检测结果"),
            guards.guard_submit_result,
            guards.LabResult,
        ),
        row(
            "approve_pass",
            {S.REVIEW},
            S.APPROVED,
            REVIEWER,
            pmsg("action", "审核通过（合格）"),
            guards.guard_approve,
            guards.Review,
        ),
        row(
            "approve_fail",
            {S.REVIEW},
            S.RETURN_TO_MERCHANT,
            REVIEWER,
            pmsg("action", "审核通过（不合格）"),
            guards.guard_approve,
            guards.Review,
        ),
        row(
            "send_back",
            {S.REVIEW},
            S.IN_INSPECTION,
            REVIEWER,
            pmsg("action", "退回复检"),
            guards.guard_send_back,
            guards.SendBack,
        ),
        row(
            "withdraw_result",
            {S.REVIEW},
            S.IN_INSPECTION,
            LAB,
            pmsg("action", "撤回检测结果"),
            guards.guard_withdraw_result,
            guards.Authorship,
        ),
        row(
            "issue_certificate",
            {S.APPROVED},
            S.CERTIFIED,
            INSPECTOR,
            pmsg("action", "出具证书"),
            guards.guard_issue_certificate,
            guards.Verdict,
        ),
        row(
            "pack",
            {S.CERTIFIED},
            S.PACKED,
            INSPECTOR,
            pmsg("action", "打包"),
            guards.guard_pack,
            guards.Packing,
        ),
        row("ship", {S.PACKED}, S.SHIPPED, INSPECTOR, pmsg("action", "发货")),
        row("deliver", {S.SHIPPED}, S.DELIVERED, ADMIN, pmsg("action", "签收")),
        row(
            "return_shipped",
            {S.RETURN_TO_MERCHANT},
            S.RETURNED,
            INSPECTOR,
            pmsg("action", "退回商家"),
        ),
        row(
            # 假一赔十 claim (issue 5): the consumer's item comes back for re-inspection.
            "claim_return",
            {S.SHIPPED, S.DELIVERED},
            S.RECEIVED,
            ADMIN,
            pmsg("action", "理赔退回复检"),
            guards.guard_hold,
            guards.Reason,
        ),
        row(
            "hold",
            HOLDABLE,
            S.ON_HOLD,
            FLOOR,
            pmsg("action", "挂起"),
            guards.guard_hold,
            guards.Reason,
        ),
        row(
            "release",
            {S.ON_HOLD},
            None,
            FLOOR,
            pmsg("action", "解除挂起"),
            guards.guard_release,
            NoFacts,
        ),
    ],
)
TRANSITIONS: Mapping[str, Transition[ItemState, Any]] = MACHINE.transitions
ItemChange = Change[ItemState]
