"""One place decides who may do what (STYLE.md 12): every service that changes state asks
qc_app.authz, directly (`authorize`, `allows`) or through a state machine transition, whose
check asks `authorize` with the transition's own table row; and no code outside authz
compares role strings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from qc_app.authz import Role, authorize
from qc_app.errors import Forbidden
from qc_app.items.workflow import TRANSITIONS

ROOT = Path(__file__).resolve().parents[2] / "qc_app"
# The service modules: services.py and hooks.py of each package, and certificates' split ones.
CERTIFICATES = ("keys.py", "ca.py", "issuance.py", "lookup.py", "revocation.py", "batches.py")
SERVICES = sorted(
    p
    for p in ROOT.rglob("*.py")
    if p.name in ("services.py", "hooks.py")
    or (p.parent.name == "certificates" and p.name in CERTIFICATES)
)
# The calls that ask authz: the helpers themselves, and every way into a state machine
# (items.services.hold runs the item's hold transition).
ASKS = {"authorize", "allows", "check", "transition", "apply", "_apply", "hold"}
# State changes with no signed-in actor to ask about, each for its stated reason.
NO_ACTOR = {
    # the consumer, who has no account: filing a claim, registering as the owner
    "claims/services.py:file_claim",
    "verification/services.py:register_owner",
    # signing in and out, the second factor, and the session or token that proves it
    "auth/services.py:login",
    "auth/services.py:record_failed_login",
    "auth/services.py:complete_login",
    "auth/services.py:confirm_enrolment",
    "auth/services.py:logout",
    "auth/services.py:user_for_session",
    "auth/services.py:user_for_token",
    # set-up by the operator from the CLI (flask qc ...), which holds the keys
    "auth/services.py:create_user",
    "auth/services.py:create_token",
    "certificates/keys.py:ensure_signing_key",
    "certificates/keys.py:rotate_signing_key",
    "certificates/ca.py:ensure_platform_ca",
    "certificates/ca.py:issue_body_credential",
    "certificates/ca.py:ensure_body_credential",
    "certificates/ca.py:ensure_pdf_signing",
    # the queue's worker running a job whose requester was authorised when it was recorded
    "jobs/services.py:start_job",
    "jobs/services.py:finish_job",
    "jobs/services.py:fail_job",
}


def _called(node: ast.AST, *, plain: bool = False) -> set[str]:
    """The names called in `node` (`f()`, `x.f()`); with `plain`, only `f()`."""
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute) and not plain:
                names.add(func.attr)
    return names


def _writes(node: ast.AST) -> bool:
    return any(
        isinstance(w, ast.With)
        and any(
            isinstance(i.context_expr, ast.Call) and "write" in _called(i.context_expr)
            for i in w.items
        )
        for w in ast.walk(node)
    )


def _state_changers() -> list[tuple[str, bool]]:
    """(module:function, asks authz) for each public function that opens a write or runs a
    transition, following calls to the module's own functions."""
    found = []
    for path in SERVICES:
        tree = ast.parse(path.read_text())
        functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        calls = {name: _called(f) for name, f in functions.items()}
        local = {name: _called(f, plain=True) & functions.keys() for name, f in functions.items()}

        def reach(
            name: str,
            seen: set[str],
            calls: dict[str, set[str]] = calls,
            local: dict[str, set[str]] = local,
        ) -> set[str]:
            out = set(calls[name])
            for callee in local[name] - seen:
                out |= reach(callee, seen | {callee})
            return out

        for name, function in functions.items():
            if name.startswith("_"):
                continue
            reached = reach(name, {name})
            bodies = [functions[c] for c in reached & local[name]] + [function]
            if any(_writes(f) for f in bodies) or reached & {"apply", "transition"}:
                key = f"{path.relative_to(ROOT)}:{name}"
                found.append((key, bool(reached & ASKS)))
    return found


CHANGERS = _state_changers()


def test_the_walk_finds_the_state_changing_services() -> None:
    names = {key for key, _ in CHANGERS}
    assert {
        "items/services.py:hold_item",
        "orders/services.py:pack",
        "claims/services.py:decide",
        "inspection/services.py:approve",
        "intake/services.py:create_consignment",
    } <= names


def test_every_exception_is_a_state_changing_service() -> None:
    assert {key for key, _ in CHANGERS} >= NO_ACTOR


@pytest.mark.parametrize(("service", "asks"), CHANGERS, ids=[k for k, _ in CHANGERS])
def test_every_state_changing_service_asks_authz(service: str, asks: bool) -> None:
    if service in NO_ACTOR:
        return
    assert asks, f"{service} changes state without asking qc_app.authz"


def test_no_role_string_is_compared_outside_authz() -> None:
    roles = {r.value for r in Role}
    found = []
    for path in ROOT.rglob("*.py"):
        if path.name == "authz.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                constants = [
                    c.value
                    for c in ast.walk(node)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                if roles & set(constants):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_a_transition_row_is_its_own_permission(name: str) -> None:
    spec = TRANSITIONS[name]
    for role in Role:
        actor = type("Actor", (), {"role": role.value, "merchant_id": 1})()
        if role in spec.roles:
            authorize(actor, spec)
        else:
            with pytest.raises(Forbidden):
                authorize(actor, spec)
