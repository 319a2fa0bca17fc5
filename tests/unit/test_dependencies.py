"""Every package the code imports is declared in pyproject.toml, and the lock files pin every
declared package with hashes: a fresh machine installs exactly what was tested."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


MAIN = {_name(r) for r in PYPROJECT["dependencies"]}
DEV = MAIN | {_name(r) for r in PYPROJECT["optional-dependencies"]["dev"]}


def _imported_distributions(*folders: str) -> dict[str, set[str]]:
    """Distribution name → the files that import it, for third-party imports in `folders`."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = [node.module.split(".")[0]]
                else:
                    continue
                for top in tops:
                    if top in sys.stdlib_module_names or top in ("qc_app", "tests"):
                        continue
                    if (path.parent / f"{top}.py").exists():  # a script's sibling (bench/)
                        continue
                    for dist in owners.get(top, [f"<unknown module {top}>"]):
                        found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_service_imports_only_declared_runtime_packages() -> None:
    undeclared = {d: f for d, f in _imported_distributions("qc_app").items() if d not in MAIN}
    assert not undeclared, f"add to [project] dependencies: {undeclared}"


def test_tests_and_benchmarks_import_only_declared_packages() -> None:
    imported = _imported_distributions("tests", "bench")
    undeclared = {d: f for d, f in imported.items() if d not in DEV}
    assert not undeclared, f"add to the dev extra: {undeclared}"


def _locked(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.MULTILINE))
    # Every pin carries at least one hash (pip's --require-hashes refuses the file otherwise).
    blocks = re.split(r"^(?=[A-Za-z0-9])", text, flags=re.MULTILINE)
    assert all("--hash=sha256:" in b for b in blocks if "==" in b.split("\n")[0])
    return {_name(k): v for k, v in pins.items()}


@pytest.mark.parametrize(("lock", "declared"), [("main.txt", MAIN), ("dev.txt", DEV)])
def test_lock_pins_every_declared_package(lock: str, declared: set[str]) -> None:
    pinned = _locked(lock)
    assert not declared - set(pinned), "run scripts/lock: pyproject.toml changed"


def test_main_and_dev_locks_agree_on_shared_versions() -> None:
    main, dev = _locked("main.txt"), _locked("dev.txt")
    differ = {k: (v, dev[k]) for k, v in main.items() if dev.get(k) != v}
    assert not differ, differ
