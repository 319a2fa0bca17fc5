"""The order lifecycle as data for `qc_app.statemachine`.

    OPEN ─pack─► PACKED ─ship─► SHIPPED ─deliver─► DELIVERED
    OPEN/PACKED ─cancel─► CANCELLED          (its item failed QC)
    DELIVERED ─compensate─► COMPENSATED      (a 假一赔十 claim on it was upheld and paid)

An order follows its item: packing, shipping and delivering the item moves the order (hooks on
the item machine, `orders.hooks`), and so does a failed item. The order keeps its own state
because it exists before its item (order-driven intake) and outlives a failed one (cancelled).
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from qc_app.authz import Role
from qc_app.i18n import Message, pmsg
from qc_app.statemachine import StateMachine, row


class OrderState(StrEnum):
    OPEN = "open"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    COMPENSATED = "compensated"


# A state's name on its own (a badge, a table cell).
ORDER_STATE_LABELS: Mapping[OrderState, Message] = {
    OrderState.OPEN: pmsg("state", "待打包"),
    OrderState.PACKED: pmsg("state", "已打包"),
    OrderState.SHIPPED: pmsg("state", "已发货"),
    OrderState.DELIVERED: pmsg("state", "已签收"),
    OrderState.CANCELLED: pmsg("state", "已取消"),
    OrderState.COMPENSATED: pmsg("state", "理赔成立，已赔付"),
}

# The same names inside a sentence ("cannot ship: the order is cancelled"): lower-case English.
STATE_WORDS: Mapping[OrderState, Message] = {
    OrderState.OPEN: pmsg("state in a sentence", "待打包"),
    OrderState.PACKED: pmsg("state in a sentence", "已打包"),
    OrderState.SHIPPED: pmsg("state in a sentence", "已发货"),
    OrderState.DELIVERED: pmsg("state in a sentence", "已签收"),
    OrderState.CANCELLED: pmsg("state in a sentence", "已取消"),
    OrderState.COMPENSATED: pmsg("state in a sentence", "理赔成立，已赔付"),
}

S = OrderState
MACHINE: StateMachine[OrderState, Any] = StateMachine(
    states=OrderState,
    labels=ORDER_STATE_LABELS,
    in_sentence=STATE_WORDS,
    noun=pmsg("noun", "订单"),
    transitions=[
        row("pack", {S.OPEN}, S.PACKED, {Role.INSPECTOR}, pmsg("action", "打包")),
        row("ship", {S.PACKED}, S.SHIPPED, {Role.INSPECTOR}, pmsg("action", "发货")),
        row("deliver", {S.SHIPPED}, S.DELIVERED, {Role.ADMIN}, pmsg("action", "签收")),
        # The reviewer who failed the order's item (approve_fail) cancels it through the hook.
        row(
            "cancel",
            {S.OPEN, S.PACKED},
            S.CANCELLED,
            {Role.REVIEWER},
            pmsg("action", "因检测不合格取消"),
        ),
        # The admin who upholds a claim on the order (claims' uphold) pays it through the hook.
        row(
            "compensate",
            {S.DELIVERED},
            S.COMPENSATED,
            {Role.ADMIN},
            pmsg("action", "理赔成立，赔付"),
        ),
    ],
)
