"""The claim lifecycle as data: states and a transition table for `qc_app.statemachine`.

    FILED ─merchant_accept─► ACCEPTED ─┐
    FILED ─merchant_dispute─► DISPUTED ─┼─uphold─► UPHELD   (payout; certificate revoked)
    FILED/ACCEPTED/DISPUTED ─reinspect─► REINSPECTION ─┤
                                                      └─reject─► REJECTED (with a ground)

The admin decides only after the merchant has answered (or after a re-inspection). Another
shop's claim reads as missing (404), as everywhere else.
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

from qc_app.authz import Role, Viewer, ensure_visible
from qc_app.claims import guards
from qc_app.i18n import msg
from qc_app.statemachine import Change, StateMachine, Transition, row


class ClaimState(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    REINSPECTION = "reinspection"
    UPHELD = "upheld"
    REJECTED = "rejected"


STATE_LABELS: Mapping[ClaimState, tuple[str, str]] = {
    ClaimState.FILED: ("已提交，待商家答复", "Filed, awaiting the merchant"),
    ClaimState.ACCEPTED: ("商家认可，待平台裁定", "Merchant accepts; awaiting the platform"),
    ClaimState.DISPUTED: ("商家有异议，待平台裁定", "Merchant disputes; awaiting the platform"),
    ClaimState.REINSPECTION: ("退回质检仓复检中", "Re-inspection at the warehouse"),
    ClaimState.UPHELD: ("理赔成立", "Upheld"),
    ClaimState.REJECTED: ("理赔驳回", "Rejected"),
}


class ClaimLike(Protocol):
    @property
    def merchant_id(self) -> int: ...


def _visible(claim: ClaimLike, actor: Viewer) -> None:
    ensure_visible(actor, claim.merchant_id, msg("未找到理赔"))


S = ClaimState
ANSWERED = frozenset({S.ACCEPTED, S.DISPUTED, S.REINSPECTION})
MERCHANT, ADMIN = {Role.MERCHANT}, {Role.ADMIN}
MACHINE: StateMachine[ClaimState, Any] = StateMachine(
    states=ClaimState,
    labels=STATE_LABELS,
    noun=("理赔", "claim"),
    visible=_visible,
    transitions=[
        row("merchant_accept", {S.FILED}, S.ACCEPTED, MERCHANT, ("认可理赔", "accept the claim")),
        row(
            "merchant_dispute",
            {S.FILED},
            S.DISPUTED,
            MERCHANT,
            ("提出异议", "dispute the claim"),
            guards.guard_dispute,
            guards.Note,
        ),
        row(
            "reinspect",
            {S.FILED, S.ACCEPTED, S.DISPUTED},
            S.REINSPECTION,
            ADMIN,
            ("安排复检", "order a re-inspection"),
            guards.guard_reinspect,
            guards.Note,
        ),
        row(
            "uphold",
            ANSWERED,
            S.UPHELD,
            ADMIN,
            ("裁定理赔成立", "uphold the claim"),
            guards.guard_uphold,
            guards.Postage,
        ),
        row(
            "reject",
            ANSWERED,
            S.REJECTED,
            ADMIN,
            ("驳回理赔", "reject the claim"),
            guards.guard_reject,
            guards.Ground,
        ),
    ],
)
TRANSITIONS: Mapping[str, Transition[ClaimState, Any]] = MACHINE.transitions
ClaimChange = Change[ClaimState]
