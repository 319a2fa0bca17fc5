"""One state machine for every lifecycle (items, claims, orders, inspections, certificates).

A machine is a table of transitions. `transition` runs its checks in this one order, and the
first that fails refuses with a clear message, having changed nothing:

    1. the transition is known                         (KeyError: a programming error)
    2. the actor may see the object and holds a role   (authz: 404 another shop's, 403 a role)
       the transition's row allows
    3. the object is in one of the transition's source states          (409 IllegalTransition,
       with the row's own refusal when it has one)
    4. the facts are the type the guard declares, and the guard allows    (TypeError; its own)

Then it assigns the state (the only code that does), lets the caller record the change (the
audit event), and sends the machine's `changed` signal with the transition's name as sender:
the after-transition hooks other packages connect at start-up run inside the same transaction.

Guards are pure functions `guard(obj, actor, facts)`; the facts a guard needs are a frozen
dataclass, so a missing fact is a type error rather than a silently passing `dict.get`.
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from blinker import Signal

from qc_app.authz import Role, authorize
from qc_app.errors import IllegalTransition
from qc_app.i18n import Message, msg

StateT = TypeVar("StateT", bound=StrEnum)
ObjT = TypeVar("ObjT")
ObjContraT = TypeVar("ObjContraT", contravariant=True)
FactsT = TypeVar("FactsT")
ActorT = TypeVar("ActorT")


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def merchant_id(self) -> int | None: ...


@dataclass(frozen=True)
class NoFacts:
    """What a transition without a guard is given."""


NO_FACTS = NoFacts()


class Guard(Protocol[ObjContraT]):
    def __call__(self, obj: ObjContraT, actor: Any, facts: Any, /) -> None: ...


def _no_guard(obj: object, actor: object, facts: object) -> None:
    """No condition beyond the actor's role and the source state."""


@dataclass(frozen=True)
class Transition(Generic[StateT, ObjT]):
    name: str
    sources: frozenset[StateT]
    target: StateT | None  # None: back to the state the object was held from
    roles: frozenset[Role]
    label: Message  # what it does, as a sentence says it ("put on hold"): context "action"
    guard: Guard[ObjT]
    facts: type
    refusal: Message | None = None  # said instead of the generic message to a wrong state


def row(
    name: str,
    sources: Iterable[StateT],
    target: StateT | None,
    roles: Iterable[Role],
    label: Message,
    guard: Callable[[ObjT, ActorT, FactsT], None] | None = None,
    facts: type[FactsT] | None = None,
    *,
    refusal: Message | None = None,
) -> Transition[StateT, ObjT]:
    """One table row; the guard and the facts class it takes are checked against each other."""
    if (guard is None) != (facts is None):
        raise TypeError(f"{name}: a guard and its facts class come together")
    return Transition(
        name,
        frozenset(sources),
        target,
        frozenset(roles),
        label,
        guard if guard is not None else _no_guard,
        facts if facts is not None else NoFacts,
        refusal,
    )


@dataclass(frozen=True)
class Change(Generic[StateT]):
    transition: str
    before: StateT
    after: StateT


class StateMachine(Generic[StateT, ObjT]):
    """The transitions of one kind of object; `changed` is its after-transition hook."""

    def __init__(
        self,
        *,
        states: type[StateT],
        labels: Mapping[StateT, Message],
        noun: Message,
        transitions: Iterable[Transition[StateT, ObjT]],
        visible: Callable[[ObjT, Any], None] | None = None,
        hold: str | None = None,
        in_sentence: Mapping[StateT, Message] | None = None,
        field: str = "state",
    ) -> None:
        """`labels` name the states on their own ("On hold"), `in_sentence` inside a sentence
        ("the item is on hold"; the labels if they read the same), `noun` the object in one.
        `visible` refuses an actor who may not see the object at all (merchant isolation);
        `hold` names the transition that remembers its source state in `held_from`, to which a
        transition without a target returns; `field` is the attribute holding the state."""
        self.states = states
        self.labels = labels
        self.in_sentence = in_sentence if in_sentence is not None else labels
        self.noun = noun
        self.transitions: Mapping[str, Transition[StateT, ObjT]] = {t.name: t for t in transitions}
        self.visible = visible
        self.hold = hold
        self.field = field
        self.changed = Signal()

    def state_of(self, obj: ObjT) -> StateT:
        return self.states(getattr(obj, self.field))

    def check(
        self, obj: ObjT, name: str, actor: Actor, facts: object = NO_FACTS
    ) -> Transition[StateT, ObjT]:
        """Refuse (with a clear message) unless `name` may run now; changes nothing."""
        spec = self.transitions[name]
        if self.visible is not None:
            self.visible(obj, actor)
        authorize(actor, spec)
        state = self.state_of(obj)
        if state not in spec.sources:
            if spec.refusal is not None:
                raise IllegalTransition(spec.refusal)
            raise IllegalTransition(
                msg(
                    "{noun}当前状态为“{state}”，不能{action}",
                    noun=self.noun,
                    state=self.in_sentence[state],
                    action=spec.label,
                ),
            )
        if not isinstance(facts, spec.facts):
            raise TypeError(f"{name} needs {spec.facts.__name__}, not {type(facts).__name__}")
        spec.guard(obj, actor, facts)
        return spec

    def transition(
        self,
        obj: ObjT,
        name: str,
        actor: Actor,
        facts: object = NO_FACTS,
        *,
        record: Callable[[Change[StateT]], None] | None = None,
        **hook_args: Any,
    ) -> Change[StateT]:
        """The only place state is assigned: check, assign, record, then the hooks."""
        spec = self.check(obj, name, actor, facts)
        before = self.state_of(obj)
        if spec.target is not None:
            after = spec.target
        else:
            after = self.states(getattr(obj, "held_from", None) or "")
        if self.hold is not None:
            obj.held_from = before.value if name == self.hold else None  # type: ignore[attr-defined]
        setattr(obj, self.field, after)
        change = Change(name, before, after)
        if record is not None:
            record(change)
        self.changed.send(name, obj=obj, change=change, actor=actor, **hook_args)
        return change

    def allowed(self, obj: ObjT, role: str) -> list[str]:
        """Transition names whose role and source state fit (guards not run): for buttons."""
        state = self.state_of(obj)
        return [t.name for t in self.transitions.values() if role in t.roles and state in t.sources]
