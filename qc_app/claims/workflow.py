"""The claim lifecycle as data: states, a transition table, one function that assigns state.

    FILED ─merchant_accept─► ACCEPTED ─┐
    FILED ─merchant_dispute─► DISPUTED ─┼─uphold─► UPHELD   (payout; certificate revoked)
    FILED/ACCEPTED/DISPUTED ─reinspect─► REINSPECTION ─┤
                                                      └─reject─► REJECTED (with a ground)

The admin decides only after the merchant has answered (or after a re-inspection).
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from qc_app.claims import guards
from qc_app.errors import Forbidden, IllegalTransition
from qc_app.i18n import msg


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

Guard = Callable[["ClaimLike", "ActorLike", Mapping[str, Any]], None]


class ActorLike(Protocol):
    id: int | None
    role: str
    merchant_id: int | None


class ClaimLike(Protocol):
    state: str
    merchant_id: int


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[ClaimState]
    target: ClaimState
    roles: frozenset[str]
    guard: Guard
    label_zh: str
    label_en: str


S = ClaimState
ANSWERED = frozenset({S.ACCEPTED, S.DISPUTED, S.REINSPECTION})
TRANSITIONS: Mapping[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "merchant_accept",
            frozenset({S.FILED}),
            S.ACCEPTED,
            frozenset({"merchant"}),
            guards.guard_accept,
            "认可理赔",
            "accept the claim",
        ),
        Transition(
            "merchant_dispute",
            frozenset({S.FILED}),
            S.DISPUTED,
            frozenset({"merchant"}),
            guards.guard_dispute,
            "提出异议",
            "dispute the claim",
        ),
        Transition(
            "reinspect",
            frozenset({S.FILED, S.ACCEPTED, S.DISPUTED}),
            S.REINSPECTION,
            frozenset({"admin"}),
            guards.guard_reinspect,
            "安排复检",
            "order a re-inspection",
        ),
        Transition(
            "uphold",
            ANSWERED,
            S.UPHELD,
            frozenset({"admin"}),
            guards.guard_uphold,
            "裁定理赔成立",
            "uphold the claim",
        ),
        Transition(
            "reject",
            ANSWERED,
            S.REJECTED,
            frozenset({"admin"}),
            guards.guard_reject,
            "驳回理赔",
            "reject the claim",
        ),
    )
}


@dataclass(frozen=True)
class Change:
    transition: str
    before: ClaimState
    after: ClaimState


def check(
    claim: ClaimLike, name: str, actor: ActorLike, context: Mapping[str, Any] | None = None
) -> Transition:
    spec = TRANSITIONS[name]
    state = ClaimState(claim.state)
    if actor.role not in spec.roles:
        raise Forbidden(
            msg(
                "角色 {role} 不能{label_zh}",
                role=actor.role,
                label_zh=spec.label_zh,
                label_en=spec.label_en,
            ),
            code="role_not_allowed",
        )
    spec.guard(claim, actor, context or {})
    if state not in spec.sources:
        zh, en = STATE_LABELS[state]
        raise IllegalTransition(
            msg(
                "理赔当前状态为“{text_zh}”，不能{label_zh}",
                text_zh=zh,
                label_zh=spec.label_zh,
                label_en=spec.label_en,
                lower_en=en.lower(),
            ),
        )
    return spec


def transition(
    claim: ClaimLike, name: str, actor: ActorLike, context: Mapping[str, Any] | None = None
) -> Change:
    """The only place a claim's state is assigned."""
    spec = check(claim, name, actor, context)
    before = ClaimState(claim.state)
    claim.state = spec.target
    return Change(name, before, spec.target)


def allowed(claim: ClaimLike, role: str) -> list[str]:
    return [t.name for t in TRANSITIONS.values() if role in t.roles and claim.state in t.sources]
