"""The claim workflow table and its guards, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qc_app.claims.guards import Ground, Note, Postage
from qc_app.claims.workflow import MACHINE, TRANSITIONS, ClaimState
from qc_app.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from qc_app.statemachine import NO_FACTS


@dataclass
class FakeClaim:
    state: str = ClaimState.FILED
    merchant_id: int = 1


@dataclass
class FakeActor:
    role: str
    id: int | None = 9
    merchant_id: int | None = None


MERCHANT = FakeActor("merchant", merchant_id=1)
ADMIN = FakeActor("admin")


def test_merchant_accepts_own_claim() -> None:
    claim = FakeClaim()
    assert MACHINE.transition(claim, "merchant_accept", MERCHANT).after == ClaimState.ACCEPTED


def test_other_merchant_gets_not_found() -> None:
    with pytest.raises(NotFound):
        MACHINE.transition(FakeClaim(), "merchant_accept", FakeActor("merchant", merchant_id=2))


# The facts each transition's guard takes, all of them allowing.
FACTS: dict[str, object] = {
    "merchant_dispute": Note("x"),
    "reinspect": Note("x"),
    "uphold": Postage(0),
    "reject": Ground("item_swapped"),
}


@pytest.mark.parametrize("name", ["uphold", "reject", "reinspect"])
def test_merchant_cannot_decide(name: str) -> None:
    with pytest.raises(Forbidden):
        MACHINE.transition(FakeClaim(ClaimState.ACCEPTED), name, MERCHANT, FACTS[name])


def test_uphold_only_after_the_merchant_answered() -> None:
    with pytest.raises(IllegalTransition):
        MACHINE.transition(FakeClaim(), "uphold", ADMIN, Postage(0))


@pytest.mark.parametrize("postage", [-1, 1.5, "12", True, None])
def test_uphold_needs_whole_fen_postage(postage: object) -> None:
    with pytest.raises(ValidationFailed):
        MACHINE.transition(FakeClaim(ClaimState.DISPUTED), "uphold", ADMIN, Postage(postage))


@pytest.mark.parametrize(
    "ground", ["brand_owner", "item_swapped", "not_consumer", "insufficient_evidence"]
)
def test_each_rejection_ground_is_accepted(ground: str) -> None:
    claim = FakeClaim(ClaimState.REINSPECTION)
    assert MACHINE.transition(claim, "reject", ADMIN, Ground(ground)).after == ClaimState.REJECTED


@pytest.mark.parametrize("state", [ClaimState.UPHELD, ClaimState.REJECTED])
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_decided_claims_are_final(state: ClaimState, name: str) -> None:
    actor = MERCHANT if name.startswith("merchant") else ADMIN
    with pytest.raises(IllegalTransition):
        MACHINE.transition(FakeClaim(state), name, actor, FACTS.get(name, NO_FACTS))
