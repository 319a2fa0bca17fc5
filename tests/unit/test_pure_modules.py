"""Pure modules (warehouse, dashboard, timeline, claim evidence) import neither Flask nor a
database session (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = [
    "qc_app/warehouse/mass.py",
    "qc_app/dashboard/charts.py",
    "qc_app/items/timeline.py",
    "qc_app/claims/evidence.py",
    "qc_app/claims/pdfguard.py",
    "qc_app/programmes/coverage.py",
]
FORBIDDEN = ("flask", "sqlmodel", "sqlalchemy", "qc_app.db")


@pytest.mark.parametrize("path", PURE)
def test_pure_module_imports_no_web_or_database(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text())
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    assert not [m for m in imported if m.startswith(FORBIDDEN)]
