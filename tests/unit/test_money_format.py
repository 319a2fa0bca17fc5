"""Money on the pages: format_fen alone writes the ¥ sign, so no template puts its own in front."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qc_app.units import format_fen

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("fen", "shown"),
    [(0, "¥0.00"), (5, "¥0.05"), (328000, "¥3,280.00"), (10**11, "¥1,000,000,000.00")],
)
def test_format_fen_shows_yuan_with_one_sign(fen: int, shown: str) -> None:
    assert format_fen(fen) == shown


def test_no_template_writes_a_yuan_sign_before_an_amount() -> None:
    doubled = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"[¥￥]\s*\{\{", line)
    ]
    assert doubled == []
