"""The item workflow: illegal transitions refused without side effects, holds, retests,
accreditation, and optimistic locking between concurrent sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from qc_app.audit import AuditEvent
from qc_app.db import engine_of, new_session, write
from qc_app.errors import DomainError, Forbidden, IllegalTransition, LostRace, ValidationFailed
from qc_app.inspection.models import Inspection, InspectionState
from qc_app.inspection.services import inspections_of, latest_approved, send_back
from qc_app.intake.services import receive_item
from qc_app.items.models import Item
from qc_app.items.services import hold_item, release_item, return_shipped
from qc_app.items.workflow import MACHINE, TRANSITIONS, ItemState
from qc_app.sqltypes import utcnow
from tests.conftest import NO_PHOTO, Flow, World, stored_files

# -- pure: the transition table ---------------------------------------------------------------


@dataclass
class FakeItem:
    state: ItemState
    held_from: str | None = None
    received_by_id: int | None = None


@dataclass
class FakeActor:
    role: str
    id: int | None = 7


ILLEGAL = [
    (state, name)
    for name, spec in TRANSITIONS.items()
    for state in ItemState
    if state not in spec.sources
]
WRONG_ROLE = [
    (name, role)
    for name, spec in TRANSITIONS.items()
    for role in ("merchant", "inspector", "analyst", "reviewer", "admin")
    if role not in spec.roles
]


@pytest.mark.parametrize(("state", "name"), ILLEGAL, ids=[f"{s}-{n}" for s, n in ILLEGAL])
def test_transition_from_a_non_source_state_is_refused(state: ItemState, name: str) -> None:
    held_from = ItemState.RECEIVED.value if state == ItemState.ON_HOLD else None
    item = FakeItem(state, held_from=held_from, received_by_id=99)
    actor = FakeActor(sorted(TRANSITIONS[name].roles)[0])
    with pytest.raises(IllegalTransition):
        MACHINE.transition(item, name, actor)
    assert item == FakeItem(state, held_from=held_from, received_by_id=99)


@pytest.mark.parametrize(("name", "role"), WRONG_ROLE, ids=[f"{n}-{r}" for n, r in WRONG_ROLE])
def test_transition_by_a_role_not_allowed_is_refused(name: str, role: str) -> None:
    source = sorted(TRANSITIONS[name].sources)[0]
    item = FakeItem(source, held_from="received" if source == ItemState.ON_HOLD else None)
    before = FakeItem(item.state, item.held_from)
    with pytest.raises(Forbidden) as refused:
        MACHINE.transition(item, name, FakeActor(role))
    assert refused.value.code == "role_not_allowed"
    assert item == before


def test_every_state_but_the_terminal_ones_has_a_way_out() -> None:
    # claim_return (a 假一赔十 claim's re-inspection) reopens a delivered item: not a way out.
    sources = {s for n, spec in TRANSITIONS.items() if n != "claim_return" for s in spec.sources}
    assert set(ItemState) - sources == {ItemState.DELIVERED, ItemState.RETURNED}


# -- services on the database -----------------------------------------------------------------


def snapshot(app: Flask, code: str) -> tuple[str, int, str | None, int]:
    """State, version and held-from of the item as stored, and the number of audit events."""
    with new_session(engine_of(app)) as fresh:
        item = fresh.exec(select(Item).where(Item.code == code)).one()
        events = fresh.exec(select(func.count()).select_from(AuditEvent)).one()
        return str(item.state), item.version, item.held_from, int(events)


def reach(flow: Flow, state: ItemState) -> Item:
    """A new item of merchant1, moved to `state` with the real services."""
    item = flow.declare()
    if state == ItemState.DECLARED:
        return item
    flow.receive(item)
    if state == ItemState.RECEIVED:
        return item
    if state == ItemState.RETURNED:
        flow.approve(flow.inspect(item, fineness="750.0"))
        return_shipped(
            session=flow.db,
            actor=flow.world["inspector1"],
            code=item.code,
            waybill_no="SF-RET-1",
            now=utcnow(),
        )
        return item
    inspection = flow.inspect(item)
    if state == ItemState.APPROVED:
        flow.approve(inspection)
    return item


def act(flow: Flow, user: str) -> dict[str, Any]:
    return {"session": flow.db, "actor": flow.world[user], "now": utcnow()}


SERVICE_REFUSALS: dict[str, tuple[ItemState, Callable[[Flow, Item], Any]]] = {
    "receive twice": (ItemState.RECEIVED, lambda f, i: f.receive(i, mass_g="9.99")),
    "inspect before intake": (ItemState.DECLARED, lambda f, i: f.inspect(i)),
    "release without a hold": (
        ItemState.DECLARED,
        lambda f, i: release_item(code=i.code, **act(f, "inspector1")),
    ),
    "return a declared item": (
        ItemState.DECLARED,
        lambda f, i: return_shipped(code=i.code, waybill_no="SF1", **act(f, "inspector1")),
    ),
    "return an approved item": (
        ItemState.APPROVED,
        lambda f, i: return_shipped(code=i.code, waybill_no="SF1", **act(f, "inspector1")),
    ),
    "hold a returned item": (
        ItemState.RETURNED,
        lambda f, i: hold_item(code=i.code, reason="damaged", **act(f, "inspector1")),
    ),
    "retest an approved item": (ItemState.APPROVED, lambda f, i: f.inspect(i)),
}


@pytest.mark.parametrize(
    ("state", "attempt"), SERVICE_REFUSALS.values(), ids=SERVICE_REFUSALS.keys()
)
def test_illegal_transition_through_a_service_changes_nothing(
    app: Flask, flow: Flow, state: ItemState, attempt: Callable[[Flow, Item], Any]
) -> None:
    item = reach(flow, state)
    before = snapshot(app, item.code)
    assert before[0] == state
    with pytest.raises(IllegalTransition):
        attempt(flow, item)
    assert snapshot(app, item.code) == before


def test_refused_second_intake_keeps_the_first_weighing(
    app: Flask, flow: Flow, db: Session
) -> None:
    item = reach(flow, ItemState.RECEIVED)
    with pytest.raises(IllegalTransition):
        flow.receive(item, mass_g="9.99")
    db.expire_all()
    stored = db.exec(select(Item).where(Item.code == item.code)).one()
    assert stored.received_mass_cg == 503


def test_inspection_refused_on_hold_leaves_no_inspection(
    app: Flask, flow: Flow, db: Session
) -> None:
    item = reach(flow, ItemState.RECEIVED)
    hold_item(code=item.code, reason="label unreadable", **act(flow, "inspector1"))
    before = snapshot(app, item.code)
    with pytest.raises(IllegalTransition):
        flow.inspect(item)
    assert snapshot(app, item.code) == before
    assert inspections_of(session=db, item=item) == []


@pytest.mark.parametrize(
    "state", [ItemState.DECLARED, ItemState.RECEIVED, ItemState.REVIEW, ItemState.APPROVED]
)
def test_hold_then_release_returns_to_the_previous_state(
    app: Flask, flow: Flow, state: ItemState
) -> None:
    item = reach(flow, state)
    held = hold_item(code=item.code, reason="seal broken", **act(flow, "inspector1"))
    assert (held.state, held.held_from, held.hold_reason) == (
        ItemState.ON_HOLD,
        state.value,
        "seal broken",
    )
    assert snapshot(app, item.code)[0] == ItemState.ON_HOLD
    released = release_item(code=item.code, **act(flow, "admin1"))
    assert (released.state, released.held_from, released.hold_reason) == (state, None, None)
    assert snapshot(app, item.code)[:3] == (state.value, released.version, None)


@pytest.mark.parametrize("reason", ["", "   "])
def test_hold_without_a_reason_is_refused(app: Flask, flow: Flow, reason: str) -> None:
    item = reach(flow, ItemState.RECEIVED)
    before = snapshot(app, item.code)
    with pytest.raises(ValidationFailed):
        hold_item(code=item.code, reason=reason, **act(flow, "inspector1"))
    assert snapshot(app, item.code) == before


def test_approval_is_refused_while_the_item_is_on_hold(app: Flask, flow: Flow, db: Session) -> None:
    item = flow.declare()
    flow.receive(item)
    inspection = flow.inspect(item)
    hold_item(code=item.code, reason="parcel damaged", **act(flow, "inspector1"))
    before = snapshot(app, item.code)
    with pytest.raises(IllegalTransition):
        flow.approve(inspection)
    assert snapshot(app, item.code) == before
    db.expire_all()
    assert db.get(Inspection, inspection.id).state == InspectionState.SUBMITTED


@pytest.mark.parametrize("note", ["", "  \n "])
def test_send_back_needs_a_note(app: Flask, flow: Flow, db: Session, note: str) -> None:
    item = flow.declare()
    flow.receive(item)
    inspection = flow.inspect(item)
    before = snapshot(app, item.code)
    with pytest.raises(ValidationFailed):
        send_back(inspection_id=inspection.id, note=note, **act(flow, "reviewer1"))
    assert snapshot(app, item.code) == before
    db.expire_all()
    assert db.get(Inspection, inspection.id).state == InspectionState.SUBMITTED


def test_send_back_returns_the_item_to_inspection(app: Flask, flow: Flow) -> None:
    item = flow.declare()
    flow.receive(item)
    inspection = flow.inspect(item)
    sent = send_back(
        inspection_id=inspection.id, note="XRF 读数偏低，请复测", **act(flow, "reviewer1")
    )
    assert (sent.state, sent.review_note) == (InspectionState.SENT_BACK, "XRF 读数偏低，请复测")
    assert snapshot(app, item.code)[0] == ItemState.IN_INSPECTION


def test_retest_after_send_back_adds_a_second_inspection(flow: Flow, db: Session) -> None:
    item = flow.declare()
    flow.receive(item)
    first = flow.inspect(item, fineness="989.0")
    send_back(inspection_id=first.id, note="re-measure", **act(flow, "reviewer1"))
    second = flow.inspect(item, fineness="999.2")
    flow.approve(second, reviewer="reviewer2")
    db.expire_all()
    history = inspections_of(session=db, item=item)
    assert [(i.id, i.state, i.verdict) for i in history] == [
        (first.id, InspectionState.SENT_BACK, "fail"),
        (second.id, InspectionState.APPROVED, "pass"),
    ]
    assert latest_approved(session=db, item=item).id == second.id
    assert db.get(Item, item.id).state == ItemState.APPROVED


@pytest.mark.parametrize(("days_left", "allowed"), [(-1, False), (-400, False), (0, True)])
def test_only_an_accredited_body_can_submit_results(
    app: Flask, flow: Flow, db: Session, world: World, days_left: int, allowed: bool
) -> None:
    with write(db):
        world.lab.accredited_until = utcnow().date() + timedelta(days=days_left)
        db.add(world.lab)
    item = reach(flow, ItemState.RECEIVED)
    before = snapshot(app, item.code)
    if allowed:
        flow.inspect(item)
        assert snapshot(app, item.code)[0] == ItemState.REVIEW
        return
    with pytest.raises(Forbidden) as refused:
        flow.inspect(item)
    assert refused.value.code == "accreditation_lapsed"
    assert snapshot(app, item.code) == before
    assert inspections_of(session=db, item=item) == []


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_change_makes_the_stale_transition_fail(
    app: Flask, flow: Flow, world: World
) -> None:
    code = flow.declare().code
    first, second = new_session(engine_of(app)), new_session(engine_of(app))
    try:
        mine = first.exec(select(Item).where(Item.code == code)).one()
        theirs = second.exec(select(Item).where(Item.code == code)).one()
        assert mine.version == theirs.version
        hold_item(
            session=first, actor=world["inspector1"], code=code, reason="damaged", now=utcnow()
        )
        after_hold = snapshot(app, code)
        with pytest.raises(LostRace):
            receive_item(
                session=second,
                actor=world["inspector1"],
                code=code,
                mass_g="5.03",
                photo=None,
                **NO_PHOTO,
                files=stored_files(app),
                now=utcnow(),
            )
        assert snapshot(app, code) == after_hold
        assert after_hold[0] == ItemState.ON_HOLD
    finally:
        first.close()
        second.close()


def test_domain_errors_of_the_workflow_carry_both_languages() -> None:
    with pytest.raises(DomainError) as refused:
        MACHINE.transition(FakeItem(ItemState.DECLARED), "ship", FakeActor("inspector"))
    assert refused.value.message.render("zh") and refused.value.message.render("en")
    assert refused.value.status == 409
