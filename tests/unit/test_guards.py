"""Each pure guard of qc_app/intake/guards.py, called directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.i18n import msg
from qc_app.intake import guards
from qc_app.intake.workflow import ItemState

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
# A review by someone of the lab that made the inspection, while its accreditation is valid.
NOTE = {"note": "re-measure the clasp", "same_body": True, "accredited": True}


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_analyst_cannot_review_their_own_result(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(), Actor(ANALYST), {"analyst_id": ANALYST, **NOTE})
    assert refused.value.code == "separation_of_duties"


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_intake_inspector_cannot_review_the_item(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(received_by_id=INSPECTOR), Actor(INSPECTOR), {"analyst_id": ANALYST, **NOTE})
    assert refused.value.code == "separation_of_duties"


@pytest.mark.parametrize("guard", FOUR_EYES)
@pytest.mark.parametrize("reviewer", [REVIEWER, OTHER_REVIEWER])
def test_a_third_person_may_review(guard: Any, reviewer: int) -> None:
    assert guard(Item(), Actor(reviewer), {"analyst_id": ANALYST, **NOTE}) is None


@pytest.mark.parametrize("guard", FOUR_EYES)
def test_reviewer_of_another_testing_body_is_refused(guard: Any) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(Item(), Actor(REVIEWER), {"analyst_id": ANALYST, **NOTE, "same_body": False})
    assert refused.value.code == "other_testing_body"


def test_a_lapsed_body_cannot_sign_off() -> None:
    with pytest.raises(Forbidden) as refused:
        guards.guard_approve(
            Item(), Actor(REVIEWER), {"analyst_id": ANALYST, **NOTE, "accredited": False}
        )
    assert refused.value.code == "accreditation_lapsed"


def test_a_lapsed_body_may_still_send_a_result_back() -> None:
    ctx = {"analyst_id": ANALYST, **NOTE, "accredited": False}
    assert guards.guard_send_back(Item(), Actor(REVIEWER), ctx) is None


def test_review_without_a_known_analyst_is_refused() -> None:
    with pytest.raises(Forbidden):
        guards.guard_approve(Item(received_by_id=None), Actor(None), {})


def test_intake_inspector_cannot_start_the_inspection() -> None:
    with pytest.raises(Forbidden) as refused:
        guards.guard_start_inspection(
            Item(received_by_id=INSPECTOR), Actor(INSPECTOR, "analyst"), {}
        )
    assert refused.value.code == "separation_of_duties"


def test_another_person_may_start_the_inspection() -> None:
    assert guards.guard_start_inspection(Item(), Actor(ANALYST, "analyst"), {}) is None


# -- the other guards -------------------------------------------------------------------------


@pytest.mark.parametrize("note", [None, "", "   \t"])
def test_send_back_without_a_note_is_refused(note: str | None) -> None:
    review = {k: v for k, v in NOTE.items() if k != "note"}
    ctx = {"analyst_id": ANALYST, **review} | ({} if note is None else {"note": note})
    with pytest.raises(ValidationFailed):
        guards.guard_send_back(Item(), Actor(REVIEWER), ctx)


@pytest.mark.parametrize("ctx", [{}, {"mass_cg": None}])
def test_receive_without_a_weighing_is_refused(ctx: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_receive(Item(ItemState.DECLARED), Actor(INSPECTOR, "inspector"), ctx)


def test_receive_with_a_weighing_is_allowed() -> None:
    assert (
        guards.guard_receive(
            Item(ItemState.DECLARED), Actor(INSPECTOR, "inspector"), {"mass_cg": 503}
        )
        is None
    )


@pytest.mark.parametrize("ctx", [{}, {"accredited": False}])
def test_results_of_a_lapsed_body_are_refused(ctx: dict[str, Any]) -> None:
    with pytest.raises(Forbidden) as refused:
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
    assert refused.value.code == "accreditation_lapsed"


def test_results_outside_the_body_scope_are_refused() -> None:
    ctx = {"accredited": True, "in_scope": False, "family": "diamond"}
    with pytest.raises(Forbidden) as refused:
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
    assert refused.value.code == "outside_scope"
    assert "diamond" in refused.value.message.render("en")


def test_results_of_an_accredited_body_in_scope_are_allowed() -> None:
    ctx = {"accredited": True, "in_scope": True, "family": "jade"}
    assert (
        guards.guard_submit_result(Item(ItemState.IN_INSPECTION), Actor(ANALYST, "analyst"), ctx)
        is None
    )


@pytest.mark.parametrize("ctx", [{}, {"verdict": "fail"}, {"verdict": "PASS"}])
def test_certificate_only_for_a_pass(ctx: dict[str, Any]) -> None:
    with pytest.raises(Conflict):
        guards.guard_issue_certificate(Item(ItemState.APPROVED), Actor(INSPECTOR, "inspector"), ctx)


def test_certificate_for_a_pass_is_allowed() -> None:
    assert (
        guards.guard_issue_certificate(
            Item(ItemState.APPROVED), Actor(INSPECTOR, "inspector"), {"verdict": "pass"}
        )
        is None
    )


PROBLEMS = [
    ("物品不属于该订单的商品", "item is from another listing"),
    ("证书不属于该物品", "certificate is for another item"),
    ("该证书已吊销", "certificate is revoked"),
]


def test_pack_with_problems_names_every_problem() -> None:
    with pytest.raises(Conflict) as refused:
        guards.guard_pack(
            Item(ItemState.CERTIFIED),
            Actor(INSPECTOR, "inspector"),
            {"problems": [msg(zh) for zh, _en in PROBLEMS], "seal_no": "SEAL-1"},
        )
    assert refused.value.code == "packing_mismatch"
    for zh, en in PROBLEMS:
        assert zh in refused.value.message.render("zh")
        assert en in refused.value.message.render("en")


def test_pack_that_was_never_checked_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        guards.guard_pack(
            Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), {"seal_no": "SEAL-1"}
        )
    assert refused.value.code == "packing_mismatch"


@pytest.mark.parametrize("seal", [None, "", "  "])
def test_pack_without_a_seal_is_refused(seal: str | None) -> None:
    ctx: dict[str, Any] = {"problems": []} | ({} if seal is None else {"seal_no": seal})
    with pytest.raises(ValidationFailed):
        guards.guard_pack(Item(ItemState.CERTIFIED), Actor(INSPECTOR, "inspector"), ctx)


def test_pack_that_matches_with_a_seal_is_allowed() -> None:
    assert (
        guards.guard_pack(
            Item(ItemState.CERTIFIED),
            Actor(INSPECTOR, "inspector"),
            {"problems": [], "seal_no": "SEAL-1"},
        )
        is None
    )


@pytest.mark.parametrize("ctx", [{}, {"reason": ""}, {"reason": " \n"}])
def test_hold_without_a_reason_is_refused(ctx: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        guards.guard_hold(Item(ItemState.RECEIVED), Actor(INSPECTOR, "inspector"), ctx)


def test_hold_with_a_reason_is_allowed() -> None:
    assert (
        guards.guard_hold(
            Item(ItemState.RECEIVED), Actor(INSPECTOR, "inspector"), {"reason": "label unreadable"}
        )
        is None
    )


@pytest.mark.parametrize(("held_from", "allowed"), [(None, False), ("", False), ("received", True)])
def test_release_needs_the_state_before_the_hold(held_from: str | None, allowed: bool) -> None:
    item, actor = Item(ItemState.ON_HOLD, held_from=held_from), Actor(INSPECTOR, "inspector")
    if allowed:
        assert guards.guard_release(item, actor, {}) is None
        return
    with pytest.raises(Conflict):
        guards.guard_release(item, actor, {})


@pytest.mark.parametrize(
    ("guard", "ctx"),
    [
        (guards.guard_hold, {"reason": None}),
        (guards.guard_send_back, {"analyst_id": ANALYST, **NOTE, "note": None}),
        (guards.guard_pack, {"problems": [], "seal_no": None}),
    ],
    ids=["hold-reason", "send_back-note", "pack-seal"],
)
def test_explicit_null_text_is_refused(guard: Any, ctx: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        guard(Item(), Actor(REVIEWER), ctx)
