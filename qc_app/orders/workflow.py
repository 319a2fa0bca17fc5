"""The order lifecycle as data for `qc_app.statemachine`.

    OPEN ─pack─► PACKED ─ship─► SHIPPED ─deliver─► DELIVERED
    OPEN/PACKED ─cancel─► CANCELLED          (its item failed QC)

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
from qc_app.statemachine import StateMachine, row


class OrderState(StrEnum):
    OPEN = "open"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


ORDER_STATE_LABELS: Mapping[OrderState, tuple[str, str]] = {
    OrderState.OPEN: ("待打包", "Open"),
    OrderState.PACKED: ("已打包", "Packed"),
    OrderState.SHIPPED: ("已发货", "Shipped"),
    OrderState.DELIVERED: ("已签收", "Delivered"),
    OrderState.CANCELLED: ("已取消", "Cancelled"),
}

S = OrderState
MACHINE: StateMachine[OrderState, Any] = StateMachine(
    states=OrderState,
    labels=ORDER_STATE_LABELS,
    noun=("订单", "order"),
    transitions=[
        row("pack", {S.OPEN}, S.PACKED, {Role.INSPECTOR}, ("打包", "pack")),
        row("ship", {S.PACKED}, S.SHIPPED, {Role.INSPECTOR}, ("发货", "ship")),
        row("deliver", {S.SHIPPED}, S.DELIVERED, {Role.ADMIN}, ("签收", "deliver")),
        # The reviewer who failed the order's item (approve_fail) cancels it through the hook.
        row(
            "cancel",
            {S.OPEN, S.PACKED},
            S.CANCELLED,
            {Role.REVIEWER},
            ("因检测不合格取消", "cancel (item failed QC)"),
        ),
    ],
)
