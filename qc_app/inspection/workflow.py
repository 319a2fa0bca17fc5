"""The lifecycle of one inspection (a measurement session) for `qc_app.statemachine`.

    SUBMITTED ─approve─► APPROVED
    SUBMITTED ─send_back─► SENT_BACK        (the item goes back for a retest: a new inspection)

The four-eyes conditions are the item's guards (approve_pass / approve_fail / send_back), which
run in the same service step. Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from qc_app.authz import Role
from qc_app.statemachine import StateMachine, row


class InspectionState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SENT_BACK = "sent_back"


STATE_LABELS: Mapping[InspectionState, tuple[str, str]] = {
    InspectionState.SUBMITTED: ("待审核", "awaiting review"),
    InspectionState.APPROVED: ("已审核", "approved"),
    InspectionState.SENT_BACK: ("退回复检", "sent back"),
}

S = InspectionState
MACHINE: StateMachine[InspectionState, Any] = StateMachine(
    states=InspectionState,
    labels=STATE_LABELS,
    noun=("检测结果", "inspection"),
    transitions=[
        row("approve", {S.SUBMITTED}, S.APPROVED, {Role.REVIEWER}, ("审核", "approve")),
        row(
            "send_back",
            {S.SUBMITTED},
            S.SENT_BACK,
            {Role.REVIEWER},
            ("退回复检", "send back for retest"),
        ),
    ],
)
