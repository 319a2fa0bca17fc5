"""The review page shows what the reviewer approves (issue 19): a set piece's components, each
as declared and as judged, with its own readings and a set diamond's grading."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qc_app.inspection.services import record_inspection
from qc_app.sqltypes import utcnow
from tests.conftest import Flow
from tests.piece_support import BEADS, PENDANT, RING, Piece, as_api, received
from tests.web.test_lab_pages import signed_in


def recorded(flow: Flow, piece: Piece) -> int:
    item = received(flow, piece)
    found = record_inspection(
        session=flow.db,
        actor=flow.world["analyst1"],
        code=item.code,
        raw=as_api(piece),
        now=utcnow(),
    )
    return found.id or 0


def part(page: str, index: int) -> str:
    found = re.search(rf'id="part-result-{index}">(.*?)</div>', page, re.S)
    assert found, f"no component {index} on the page"
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_a_ring_shows_its_metal_and_its_graded_diamond(app: Any, flow: Flow) -> None:
    page = signed_in(app, "reviewer1").get(f"/review/{recorded(flow, RING)}").get_data(as_text=True)
    assert "18K金钻石戒指" in page
    metal, diamond = part(page, 1), part(page, 2)
    assert "18K金" in metal and "751.2 ‰" in metal and "合格" in metal
    assert "钻石" in diamond and "合格" in diamond
    assert "0.1020 g" in diamond
    # 0.1020 g = 0.51 ct; a set stone is graded in the coarser groups: G → F-G, VS2 → VS.
    assert "0.51 ct" in diamond and "F-G" in diamond and "VS" in diamond
    assert "GB/T 16554" in diamond and "弱" in diamond


@pytest.mark.parametrize(
    ("piece", "said"),
    [
        (PENDANT, ["足金", "999.3 ‰", "翡翠", "1.660", "集合体 AGG"]),
        (BEADS, ["和田玉", "×108", "8.0 mm", "108"]),
    ],
)
def test_every_component_is_shown_with_its_readings(
    app: Any, flow: Flow, piece: Piece, said: list[str]
) -> None:
    page = (
        signed_in(app, "reviewer1").get(f"/review/{recorded(flow, piece)}").get_data(as_text=True)
    )
    assert piece.named in page
    shown = " ".join(part(page, i) for i in range(1, len(piece.components) + 1))
    for text in said:
        assert text in shown


def test_a_failing_component_is_named_with_its_reason(app: Any, flow: Flow) -> None:
    miscounted = Piece(**{**BEADS.__dict__, "typed": {**BEADS.typed, "c1-count": "107"}})
    page = signed_in(app, "reviewer1").get(f"/review/{recorded(flow, miscounted)}")
    beads = part(page.get_data(as_text=True), 1)
    assert "不合格" in beads and "申报 108 粒，实测 107 粒" in beads


def test_in_english_the_components_are_in_english(app: Any, flow: Flow) -> None:
    page = signed_in(app, "reviewer1").get(f"/review/{recorded(flow, RING)}?lang=en")
    diamond = part(page.get_data(as_text=True), 2)
    assert "Component 2" in diamond and "weak" in diamond.lower()
