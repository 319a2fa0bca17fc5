"""A bead string's beads not as declared on the lab form, its preview and the review page
(issue 19): 添加一组 works without script, the preview names the string by every material in
it and fails it with the count, and what was confirmed is what the reviewer sees."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import select

from qc_app.inspection.models import Inspection
from tests.conftest import Flow
from tests.piece_support import BEADS, Piece, received
from tests.web.helpers import post_form, preview_form, record_by_web
from tests.web.test_lab_pages import signed_in
from tests.web.test_review_set_pieces import part

GLASS_3 = {"c1-groups": "1", "c1-g1-count": "3", "c1-g1-species": "glass"}
MIXED = Piece(**{**BEADS.__dict__, "typed": {**BEADS.typed, **GLASS_3}})


def test_add_a_group_without_script_keeps_what_was_typed(app: Flask, flow: Flow) -> None:
    item = received(flow, BEADS)
    client = signed_in(app, "analyst1")
    first = client.get(f"/lab/{item.code}").get_data(as_text=True)
    assert 'name="add_group" value="1"' in first and 'name="c1-g1-count"' not in first
    page = post_form(
        client, f"/lab/{item.code}", f"/lab/{item.code}", {**BEADS.typed, "add_group": "1"}
    ).get_data(as_text=True)
    assert 'value="62.04"' in page  # nothing typed is lost
    assert 'name="c1-groups" value="1"' in page
    assert 'id="c1-g1-count" name="c1-g1-count"' in page and "autofocus" in page
    assert '<option value="glass"' in page  # the component family's species choices
    assert 'name="c1-g1-dye"' in page  # and its screening results
    assert "不符的珠子 第 1 组" in page


def test_the_preview_names_the_mixed_string_and_fails_it(app: Flask, flow: Flow) -> None:
    item = received(flow, BEADS)
    client = signed_in(app, "analyst1")
    preview = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", MIXED.typed)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "和田玉、玻璃手串" in page and "108 颗中 3 颗为玻璃" in page
    assert "3 颗：玻璃" in part(page, 1)
    carried = preview_form(page)
    confirmed = client.post(f"/lab/{item.code}", data={**carried, "action": "confirm"})
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)[:500]
    flow.db.rollback()
    (found,) = flow.db.exec(select(Inspection)).all()
    assert (found.verdict, found.material_name_zh) == ("fail", "和田玉、玻璃手串")
    assert found.parts and found.parts[0]["beads_not_as_declared"][0]["count"] == "3"


def test_an_empty_added_group_is_no_group(app: Flask, flow: Flow) -> None:
    item = received(flow, BEADS)
    client = signed_in(app, "analyst1")
    typed = {**BEADS.typed, "c1-groups": "1", "c1-g1-count": "", "c1-g1-species": ""}
    page = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", typed)
    assert page.status_code == 200 and "和田玉手串" in page.get_data(as_text=True)


def test_groups_that_do_not_add_up_are_refused_next_to_the_count(app: Flask, flow: Flow) -> None:
    item = received(flow, BEADS)
    client = signed_in(app, "analyst1")
    typed = {**BEADS.typed, **GLASS_3, "c1-g1-count": "108"}
    response = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, response.status_code
    assert "须少于该串的 108 颗" in page and 'id="c1-g1-count"' in page
    assert 'value="108"' in page


def test_the_review_page_lists_the_groups_in_both_languages(app: Any, flow: Flow) -> None:
    item = received(flow, MIXED)
    assert record_by_web(signed_in(app, "analyst1"), item.code, MIXED.typed).status_code == 302
    flow.db.rollback()
    (inspection,) = [i.id for i in flow.db.exec(select(Inspection)).all()]
    client = signed_in(app, "reviewer1")
    zh = client.get(f"/review/{inspection}").get_data(as_text=True)
    assert "3 颗：玻璃" in part(zh, 1) and "不合格" in part(zh, 1)
    en = client.get(f"/review/{inspection}?lang=en").get_data(as_text=True)
    assert "3 beads: Glass" in part(en, 1) and "3 of 108 beads are Glass" in en
