"""The item lifecycle as data: states and a transition table for `qc_app.statemachine`.

    DECLARED ─receive─► RECEIVED ─start_inspection─► IN_INSPECTION ─submit_result─► REVIEW
    REVIEW ─approve_pass─► APPROVED ─issue_certificate─► CERTIFIED ─pack─► PACKED ─ship─►
        SHIPPED ─deliver─► DELIVERED
    REVIEW ─approve_fail─► RETURN_TO_MERCHANT ─return_shipped─► RETURNED
    REVIEW ─send_back─► IN_INSPECTION            (reviewer asks for a retest)
    SHIPPED/DELIVERED ─claim_return─► RECEIVED   (a claim's re-inspection at the warehouse)
    any open state ─hold─► ON_HOLD ─release─► the state it was held from

Pure: no Flask, no session, no clock. Services run `MACHINE.transition` and persist the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from qc_app.authz import LAB, Role
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

S = ItemState
INSPECTOR, REVIEWER, ADMIN = {Role.INSPECTOR}, {Role.REVIEWER}, {Role.ADMIN}
FLOOR = {Role.INSPECTOR, Role.ADMIN}
MACHINE: StateMachine[ItemState, Any] = StateMachine(
    states=ItemState,
    labels=STATE_LABELS,
    noun=("物品", "item"),
    hold="hold",
    transitions=[
        row(
            "receive",
            {S.DECLARED},
            S.RECEIVED,
            INSPECTOR,
            ("收货", "receive"),
            guards.guard_receive,
            guards.Weighing,
        ),
        row(
            "start_inspection",
            {S.RECEIVED},
            S.IN_INSPECTION,
            LAB,
            ("开始检测", "start inspection"),
            guards.guard_start_inspection,
            NoFacts,
        ),
        row(
            "submit_result",
            {S.IN_INSPECTION},
            S.REVIEW,
            LAB,
            ("提交检测结果", "submit result"),
            guards.guard_submit_result,
            guards.LabResult,
        ),
        row(
            "approve_pass",
            {S.REVIEW},
            S.APPROVED,
            REVIEWER,
            ("审核通过（合格）", "approve (pass)"),
            guards.guard_approve,
            guards.Review,
        ),
        row(
            "approve_fail",
            {S.REVIEW},
            S.RETURN_TO_MERCHANT,
            REVIEWER,
            ("审核通过（不合格）", "approve (fail)"),
            guards.guard_approve,
            guards.Review,
        ),
        row(
            "send_back",
            {S.REVIEW},
            S.IN_INSPECTION,
            REVIEWER,
            ("退回复检", "send back for retest"),
            guards.guard_send_back,
            guards.SendBack,
        ),
        row(
            "issue_certificate",
            {S.APPROVED},
            S.CERTIFIED,
            INSPECTOR,
            ("出具证书", "issue certificate"),
            guards.guard_issue_certificate,
            guards.Verdict,
        ),
        row(
            "pack",
            {S.CERTIFIED},
            S.PACKED,
            INSPECTOR,
            ("打包", "pack"),
            guards.guard_pack,
            guards.Packing,
        ),
        row("ship", {S.PACKED}, S.SHIPPED, INSPECTOR, ("发货", "ship")),
        row("deliver", {S.SHIPPED}, S.DELIVERED, ADMIN, ("签收", "deliver")),
        row(
            "return_shipped",
            {S.RETURN_TO_MERCHANT},
            S.RETURNED,
            INSPECTOR,
            ("退回商家", "ship back to merchant"),
        ),
        row(
            # 假一赔十 claim (issue 5): the consumer's item comes back for re-inspection.
            "claim_return",
            {S.SHIPPED, S.DELIVERED},
            S.RECEIVED,
            ADMIN,
            ("理赔退回复检", "return for claim re-inspection"),
            guards.guard_hold,
            guards.Reason,
        ),
        row(
            "hold",
            HOLDABLE,
            S.ON_HOLD,
            FLOOR,
            ("挂起", "put on hold"),
            guards.guard_hold,
            guards.Reason,
        ),
        row(
            "release",
            {S.ON_HOLD},
            None,
            FLOOR,
            ("解除挂起", "release hold"),
            guards.guard_release,
            NoFacts,
        ),
    ],
)
TRANSITIONS: Mapping[str, Transition[ItemState, Any]] = MACHINE.transitions
ItemChange = Change[ItemState]
