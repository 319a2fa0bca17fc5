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
from qc_app.i18n import Message, msg, pmsg
from qc_app.statemachine import Change, StateMachine, Transition, row


class ClaimState(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    REINSPECTION = "reinspection"
    UPHELD = "upheld"
    REJECTED = "rejected"


# A state's name on its own (a badge, a table cell).
STATE_LABELS: Mapping[ClaimState, Message] = {
    ClaimState.FILED: pmsg("state", "已提交，待商家答复"),
    ClaimState.ACCEPTED: pmsg("state", "商家认可，待平台裁定"),
    ClaimState.DISPUTED: pmsg("state", "商家有异议，待平台裁定"),
    ClaimState.REINSPECTION: pmsg("state", "退回质检仓复检中"),
    ClaimState.UPHELD: pmsg("state", "理赔成立"),
    ClaimState.REJECTED: pmsg("state", "理赔驳回"),
}

# The same names inside a sentence ("… the claim is upheld"): lower-case English.
STATE_WORDS: Mapping[ClaimState, Message] = {
    ClaimState.FILED: pmsg("state in a sentence", "已提交，待商家答复"),
    ClaimState.ACCEPTED: pmsg("state in a sentence", "商家认可，待平台裁定"),
    ClaimState.DISPUTED: pmsg("state in a sentence", "商家有异议，待平台裁定"),
    ClaimState.REINSPECTION: pmsg("state in a sentence", "退回质检仓复检中"),
    ClaimState.UPHELD: pmsg("state in a sentence", "理赔成立"),
    ClaimState.REJECTED: pmsg("state in a sentence", "理赔驳回"),
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
    in_sentence=STATE_WORDS,
    noun=pmsg("noun", "理赔"),
    visible=_visible,
    transitions=[
        row("merchant_accept", {S.FILED}, S.ACCEPTED, MERCHANT, pmsg("action", "认可理赔")),
        row(
            "merchant_dispute",
            {S.FILED},
            S.DISPUTED,
            MERCHANT,
            pmsg("action", "提出异议"),
            guards.guard_dispute,
            guards.Note,
        ),
        row(
            "reinspect",
            {S.FILED, S.ACCEPTED, S.DISPUTED},
            S.REINSPECTION,
            ADMIN,
            pmsg("action", "安排复检"),
            guards.guard_reinspect,
            guards.Note,
        ),
        row(
            "uphold",
            ANSWERED,
            S.UPHELD,
            ADMIN,
            pmsg("action", "裁定理赔成立"),
            guards.guard_uphold,
            guards.Postage,
        ),
        row(
            "reject",
            ANSWERED,
            S.REJECTED,
            ADMIN,
            pmsg("action", "驳回理赔"),
            guards.guard_reject,
            guards.Ground,
        ),
    ],
)
TRANSITIONS: Mapping[str, Transition[ClaimState, Any]] = MACHINE.transitions
ClaimChange = Change[ClaimState]
