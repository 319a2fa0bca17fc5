"""The claim workflow table and its guards, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qc_app.claims import workflow
from qc_app.claims.workflow import ClaimState
from qc_app.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed


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
    assert workflow.transition(claim, "merchant_accept", MERCHANT).after == ClaimState.ACCEPTED


def test_other_merchant_gets_not_found() -> None:
    with pytest.raises(NotFound):
        workflow.transition(FakeClaim(), "merchant_accept", FakeActor("merchant", merchant_id=2))


@pytest.mark.parametrize("name", ["uphold", "reject", "reinspect"])
def test_merchant_cannot_decide(name: str) -> None:
    with pytest.raises(Forbidden):
        workflow.transition(FakeClaim(ClaimState.ACCEPTED), name, MERCHANT, {"postage_fen": 0})


def test_uphold_only_after_the_merchant_answered() -> None:
    with pytest.raises(IllegalTransition):
        workflow.transition(FakeClaim(), "uphold", ADMIN, {"postage_fen": 0})


@pytest.mark.parametrize("postage", [-1, 1.5, "12", True, None])
def test_uphold_needs_whole_fen_postage(postage: object) -> None:
    with pytest.raises(ValidationFailed):
        workflow.transition(
            FakeClaim(ClaimState.DISPUTED), "uphold", ADMIN, {"postage_fen": postage}
        )


@pytest.mark.parametrize(
    "ground", ["brand_owner", "item_swapped", "not_consumer", "insufficient_evidence"]
)
def test_each_rejection_ground_is_accepted(ground: str) -> None:
    claim = FakeClaim(ClaimState.REINSPECTION)
    assert (
        workflow.transition(claim, "reject", ADMIN, {"ground": ground}).after == ClaimState.REJECTED
    )


@pytest.mark.parametrize("state", [ClaimState.UPHELD, ClaimState.REJECTED])
@pytest.mark.parametrize("name", list(workflow.TRANSITIONS))
def test_decided_claims_are_final(state: ClaimState, name: str) -> None:
    actor = MERCHANT if name.startswith("merchant") else ADMIN
    ctx = {"note": "x", "postage_fen": 0, "ground": "item_swapped"}
    with pytest.raises(IllegalTransition):
        workflow.transition(FakeClaim(state), name, actor, ctx)
