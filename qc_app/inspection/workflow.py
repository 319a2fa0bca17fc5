"""The lifecycle of one inspection (a measurement session) for `qc_app.statemachine`.

    SUBMITTED ─approve─► APPROVED
    SUBMITTED ─send_back─► SENT_BACK        (the item goes back for a retest: a new inspection)
    SUBMITTED ─withdraw─► WITHDRAWN         (its analyst takes it back before review; kept)

The four-eyes conditions are the item's guards (approve_pass / approve_fail / send_back), which
run in the same service step; so is "only the analyst who recorded it" (withdraw_result).
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from qc_app.authz import LAB, Role
from qc_app.i18n import Message, msg, pmsg
from qc_app.statemachine import StateMachine, row


class InspectionState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    WITHDRAWN = "withdrawn"


# Lower-case in English already, so the state machine's refusal says them as they are.
STATE_LABELS: Mapping[InspectionState, Message] = {
    InspectionState.SUBMITTED: pmsg("review", "待审核"),
    InspectionState.APPROVED: pmsg("review", "已审核"),
    InspectionState.SENT_BACK: pmsg("review", "退回复检"),
    InspectionState.WITHDRAWN: pmsg("review", "已撤回"),
}

# The rules' verdict on a result (Inspection.verdict).
VERDICT_LABELS: Mapping[str, Message] = {
    "pass": pmsg("verdict", "合格"),
    "fail": pmsg("verdict", "不合格"),
}

S = InspectionState
MACHINE: StateMachine[InspectionState, Any] = StateMachine(
    states=InspectionState,
    labels=STATE_LABELS,
    noun=pmsg("noun", "检测结果"),
    transitions=[
        row("approve", {S.SUBMITTED}, S.APPROVED, {Role.REVIEWER}, pmsg("action", "审核")),
        row(
            "send_back",
            {S.SUBMITTED},
            S.SENT_BACK,
            {Role.REVIEWER},
            pmsg("action", "退回复检"),
        ),
        row(
            "withdraw",
            {S.SUBMITTED},
            S.WITHDRAWN,
            LAB,
            pmsg("action", "撤回"),
            refusal=msg("检测结果已审核或已撤回，不能再撤回"),
        ),
    ],
)
