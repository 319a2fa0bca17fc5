"""Each pure guard of qc_app/items/guards.py, called directly with its typed facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.items import guards
from qc_app.items.guards import LabResult, Packing, Reason, Review, SendBack, Verdict, Weighing
from qc_app.items.workflow import ItemState
from qc_app.statemachine import NO_FACTS

INSPECTOR, ANALYST, REVIEWER, OTHER_REVIEWER = 1, 2, 3, 4


@dataclass
class Item:
    state: ItemState = ItemState.REVIEW
    held_from: str | None = None
    received_by_id: int | None = INSPECTOR


@dataclass
class Actor:
    id: int | None
    role: str = "reviewer"


# -- four-eyes (四眼原则) ------------------------------------------------------------------------

FOUR_EYES = [guards.guard_approve, guards.guard_send_back]


def review(
    analyst_id: int = ANALYST,
    *,
    same_body: bool = True,
    accredited: bool = True,
    note: str | None = "re-measure the clasp",
) -> SendBack:
    """A review by someone of the lab that made the inspection, while its accreditation is
    valid (a SendBack is a Review with the note, so both guards take it)."""
    return SendBack(analyst_id, same_body=same_body, accredited=accredited, note=note)


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_analyst_cannot_review_their_own_result(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(), Actor(ANALYST), review())
    assert refused.value.code == "separation_of_duties"


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_intake_inspector_cannot_review_the_item(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(received_by_id=INSPECTOR), Actor(INSPECTOR), review())
    assert refused.value.code == "separation_of_duties"


@pytest.mark.parametrize("guard", FOUR_EYES)
@pytest.mark.parametrize("reviewer", [REVIEWER, OTHER_REVIEWER])
def test_a_third_person_may_review(guard: Any, reviewer: int) -> None:
    assert guard(Item(), Actor(reviewer), review()) is None


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_reviewer_of_another_testing_body_is_refused(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(), Actor(REVIEWER), review(same_body=False))
    assert refused.value.code == "other_testing_body"


def test_a_lapsed_body_cannot_sign_off() -> None:
    with pytest.raises(Forbidden) as refused:
        guards.guard_approve(Item(), Actor(REVIEWER), review(accredited=False))
    assert refused.value.code == "accreditation_lapsed"


def test_a_lapsed_body_may_still_send_a_result_back() -> None:
    assert guards.guard_send_back(Item(), Actor(REVIEWER), review(accredited=False)) is None


def test_review_without_a_known_analyst_is_a_type_error() -> None:
    # The four-eyes check cannot pass for want of the analyst: the facts cannot be made.
    with pytest.raises(TypeError):
        Review(same_body=True, accredited=True)  # type: ignore[call-arg]


def test_review_by_an_unknown_person_is_refused() -> None:
    with pytest.raises(Forbidden):
        guards.guard_approve(Item(received_by_id=None), Actor(None), review())


def test_intake_inspector_cannot_start_the_inspection() -> None:
    with pytest.raises(Forbidden) as refused:
        guards.guard_start_inspection(
            Item(received_by_id=INSPECTOR), Actor(INSPECTOR, "analyst"), NO_FACTS
        )
    assert refused.value.code == "separation_of_duties"


def test_another_person_may_start_the_inspection() -> None:
    assert guards.guard_start_inspection(Item(), Actor(ANALYST, "analyst"), NO_FACTS) is None


# -- the other guards -------------------------------------------------------------------------


@pytest.mark.parametrize("note", [None, "", "   \t"])
def test_send_back_without_a_note_is_refused(note: str | None) -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_send_back(Item(), Actor(REVIEWER), review(note=note))


def test_receive_without_a_weighing_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_receive(
            Item(ItemState.DECLARED), Actor(INSPECTOR, "inspector"), Weighing(None)
        )


def test_receive_with_a_weighing_is_allowed() -> None:
    assert (
        guards.guard_receive(Item(ItemState.DECLARED), Actor(INSPECTOR, "inspector"), Weighing(503))
        is None
    )


def test_results_of_a_lapsed_body_are_refused() -> None:
    ctx = LabResult(accredited=False, in_scope=True, family="jade")
    with pytest.raises(Forbidden) as refused:
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
    assert refused.value.code == "accreditation_lapsed"


def test_results_outside_the_body_scope_are_refused() -> None:
    ctx = LabResult(accredited=True, in_scope=False, family="diamond")
    with pytest.raises(Forbidden) as refused:
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
    assert refused.value.code == "outside_scope"
    assert "diamond" in refused.value.message.render("en")


def test_results_of_an_accredited_body_in_scope_are_allowed() -> None:
    ctx = LabResult(accredited=True, in_scope=True, family="jade")
    assert (
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
        is None
    )


@pytest.mark.parametrize("verdict", [None, "fail", "PASS"])
def test_certificate_only_for_a_pass(verdict: str | None) -> None:
    with pytest.raises(Conflict):
        guards.guard_issue_certificate(
            Item(ItemState.APPROVED), Actor(INSPECTOR, "inspector"), Verdict(verdict)
        )


def test_certificate_for_a_pass_is_allowed() -> None:
    assert (
        guards.guard_issue_certificate(
            Item(ItemState.APPROVED), Actor(INSPECTOR, "inspector"), Verdict("pass")
        )
        is None
    )


ORDER, ITEM, OTHER = 10, 20, 30


def packing(seal_no: str | None = "SEAL-1", **changes: Any) -> Packing:
    """What the station reads when item, certificate, order and listing all belong together."""
    fields: dict[str, Any] = {
        "order_id": ORDER,
        "order_open": True,
        "order_listing_id": 1,
        "order_merchant_id": 1,
        "item_listing_id": 1,
        "item_merchant_id": 1,
        "item_order_id": None,
        "bound_item_id": None,
        "item_id": ITEM,
        "certificate_item_id": ITEM,
        "certificate_valid": True,
        "seal_no": seal_no,
        "seal_used_by": None,
    }
    return Packing(**(fields | changes))


PROBLEMS = [
    ("物品不属于该订单的商品", "item is from another listing"),
    ("证书不属于该物品", "certificate is for another item"),
    ("证书已吊销", "certificate is revoked"),
]


def test_pack_with_problems_names_every_problem() -> None:
    facts = packing(item_listing_id=2, certificate_item_id=OTHER, certificate_valid=False)
    with pytest.raises(Conflict) as refused:
        guards.guard_pack(Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), facts)
    assert refused.value.code == "packing_mismatch"
    for zh, en in PROBLEMS:
        assert zh in refused.value.message.render("zh")
        assert en in refused.value.message.render("en")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"order_open": False}, "order is not open"),
        ({"item_merchant_id": 2}, "item is from another listing"),
        ({"item_order_id": OTHER}, "item is bound to another order"),
        ({"bound_item_id": OTHER}, "the order is bound to another item"),
        ({"seal_used_by": "ORD-9"}, "seal SEAL-1 is already on another parcel (order ORD-9)"),
    ],
)
def test_pack_names_each_mismatch(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(Conflict) as refused:
        guards.guard_pack(
            Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), packing(**changes)
        )
    assert refused.value.code == "packing_mismatch"
    assert refused.value.message.render("en") == f"mismatch: {problem}"


def test_pack_that_was_never_checked_is_a_type_error() -> None:
    # The station's readings are the guard's facts: without them there is nothing to pass.
    with pytest.raises(TypeError):
        Packing(seal_no="SEAL-1")  # type: ignore[call-arg]


@pytest.mark.parametrize("seal", [None, "", "  "])
def test_pack_without_a_seal_is_refused(seal: str | None) -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_pack(Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), packing(seal))


def test_pack_that_matches_with_a_seal_is_allowed() -> None:
    assert (
        guards.guard_pack(Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), packing())
        is None
    )


@pytest.mark.parametrize("reason", [None, "", " \n"])
def test_hold_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_hold(Item(ItemState.RECEIVED), Actor(INSPECTOR, "inspector"), Reason(reason))


def test_hold_with_a_reason_is_allowed() -> None:
    assert (
        guards.guard_hold(
            Item(ItemState.RECEIVED), Actor(INSPECTOR, "inspector"), Reason("label unreadable")
        )
        is None
    )


@pytest.mark.parametrize(("held_from", "allowed"), [(None, False), ("", False), ("received", True)])
def test_release_needs_the_state_before_the_hold(held_from: str | None, allowed: bool) -> None:
    item, actor = Item(ItemState.ON_HOLD, held_from=held_from), Actor(INSPECTOR, "inspector")
    if allowed:
        assert guards.guard_release(item, actor, NO_FACTS) is None
        return
    with pytest.raises(Conflict):
        guards.guard_release(item, actor, NO_FACTS)


@pytest.mark.parametrize(
    ("guard", "ctx"),
    [
        (guards.guard_hold, Reason(None)),
        (guards.guard_send_back, review(note=None)),
        (guards.guard_pack, packing(None)),
    ],
    ids=["hold-reason", "send_back-note", "pack-seal"],
)
def test_explicit_null_text_is_refused(guard: Any, ctx: object) -> None:
    with pytest.raises(ValidationFailed):
        guard(Item(), Actor(REVIEWER), ctx)
