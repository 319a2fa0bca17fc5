"""The import graph, read with `ast` (STYLE.md: dependencies point inward).

Fails on a cycle between domain packages, on Flask in a pure module, on a view importing
another package's views (what views share lives in web.py or a package's pages.py), on a
cross-package import hidden inside a function (the CLI and the app factory aside), and on state
assigned anywhere but the state machine.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "qc_app"
DOMAIN = {
    "api",
    "auth",
    "certificates",
    "claims",
    "dashboard",
    "inspection",
    "intake",
    "items",
    "jobs",
    "labels",
    "listings",
    "merchants",
    "orders",
    "outbox",
    "platform_events",
    "programmes",
    "verification",
    "warehouse",
}
PURE_NAMES = {"workflow.py", "guards.py", "payload.py", "signing.py", "statemachine.py"}
PURE_DIRS = {"rules"}
RENDERERS = {"certificates/pdf.py", "certificates/layout.py", "labels/pdf.py", "labels/zpl.py"}
# The app factory and the CLIs wire everything up, and load what a command needs when it runs.
FACTORY = {"__init__.py", "cli.py", "labels/cli.py"}
# The attributes a state machine keeps its state in (StateMachine's `field`).
STATE_FIELDS = {"state", "status"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text())


def _imports(tree: ast.AST) -> Iterator[tuple[ast.stmt, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "qc_app":
                for alias in node.names:
                    yield node, f"qc_app.{alias.name}"
            else:
                yield node, node.module


def _package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "qc_app" and parts[1] in DOMAIN else None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {p: set() for p in DOMAIN}
    for rel, tree in _modules():
        source = rel.split("/")[0]
        if source not in DOMAIN:
            continue
        for _, name in _imports(tree):
            target = _package(name)
            if target and target != source:
                graph[source].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_domain_packages_form_no_cycle() -> None:
    assert _cycles(_graph()) == []


def _pure(rel: str) -> bool:
    parts = rel.split("/")
    return parts[-1] in PURE_NAMES or parts[0] in PURE_DIRS or rel in RENDERERS


@pytest.mark.parametrize("rel", [rel for rel, _ in _modules() if _pure(rel)])
def test_pure_modules_import_no_flask_and_no_session(rel: str) -> None:
    tree = ast.parse((ROOT / rel).read_text())
    bad = [n for _, n in _imports(tree) if n.split(".")[0] in ("flask", "werkzeug")]
    bad += [n for _, n in _imports(tree) if n in ("qc_app.db", "qc_app.web")]
    assert not bad


def test_views_do_not_import_other_packages_views() -> None:
    found = set()
    for rel, tree in _modules():
        if not rel.endswith("views.py"):
            continue
        for _, name in _imports(tree):
            target = _package(name)
            if name.endswith(".views") and target and target != rel.split("/")[0]:
                found.add((rel, name))
    assert not found, found


def test_no_cross_package_import_hides_in_a_function() -> None:
    found = []
    for rel, tree in _modules():
        if rel in FACTORY:
            continue
        source = rel.split("/")[0]
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for _, name in _imports(function):
                target = _package(name)
                if target and target != source:
                    found.append(f"{rel}:{name}")
    assert not found, found


def _state_assignments(tree: ast.AST) -> Iterator[ast.AST]:
    """`x.state = …`, `x.status = …` (also augmented, annotated) and `setattr(x, "state", …)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr in STATE_FIELDS:
                        yield node
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in STATE_FIELDS
        ):
            yield node


def test_state_is_assigned_only_by_the_state_machine() -> None:
    """Items, claims, orders, inspections and certificates change state through
    `StateMachine.transition` alone (a new object is created in its first state)."""
    found = [
        f"{rel}:{node.lineno}"
        for rel, tree in _modules()
        if rel != "statemachine.py"
        for node in _state_assignments(tree)
    ]
    assert not found
