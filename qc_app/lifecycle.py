"""A state machine transition as a service step: assign, audit, then the hooks, all inside the
caller's transaction (the caller holds `db.write`).

The hooks (`StateMachine.changed`) receive `session`, `now` and the event's `details` besides
the object, the change and the actor, so a reaction in another package joins the transaction.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from qc_app import audit
from qc_app.statemachine import NO_FACTS, Change, StateMachine

StateT = TypeVar("StateT", bound=StrEnum)
ObjT = TypeVar("ObjT")


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def merchant_id(self) -> int | None: ...


def apply(
    session: Session,
    machine: StateMachine[StateT, ObjT],
    obj: ObjT,
    name: str,
    *,
    actor: Actor,
    now: datetime,
    entity: str,
    entity_id: str,
    facts: object = NO_FACTS,
    action: str | None = None,
    **details: Any,
) -> Change[StateT]:
    """Run one transition of `obj` and append its audit event (action: the transition's name
    unless given), with the state before and after and `details`."""

    def record(change: Change[StateT]) -> None:
        session.add(obj)
        audit.record(
            session,
            actor=actor,
            action=action or name,
            entity=entity,
            entity_id=entity_id,
            at=now,
            before=change.before.value,
            after=change.after.value,
            **details,
        )

    return machine.transition(
        obj, name, actor, facts, record=record, session=session, now=now, details=details
    )
