"""Issue 18: the lab form previews what the rules name the item and the analyst confirms it;
every bad field is named at once; an analyst withdraws an unreviewed result of their own; the
review and withdraw buttons are offered only where the action would be allowed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from qc_app.audit import AuditEvent
from qc_app.inspection.models import Inspection
from qc_app.items.models import Item
from tests.conftest import Flow
from tests.integration.test_races import events, fresh, race
from tests.web.helpers import csrf, post_form, preview_form, record_by_web
from tests.web.test_lab_pages import signed_in

# Issue 18's reading: species left blank, RI 1.56, SG 2.60, an aggregate: the rules say 蛇纹石玉.
SERPENTINE = {"mass_g": "12.41", "ri": "1.56", "sg": "2.60", "optic": "aggregate"}
JADEITE = {"mass_g": "12.41", "species": "jadeite", "ri": "1.66", "sg": "3.33"}


class _Any:
    """Equal to anything: a value the test does not pin (the CSRF token)."""

    def __eq__(self, other: object) -> bool:
        return True


ANY: Any = _Any()


def received_jade(flow: Flow) -> Item:
    item = flow.declare(material="JADEITE", mass_g="12.40")
    return flow.receive(item, mass_g="12.41")


def audit_count(db: Session) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(AuditEvent)).one())


def test_a_preview_shows_the_rules_name_and_verdict_and_stores_nothing(
    app: Flask, flow: Flow, db: Session
) -> None:
    item = received_jade(flow)
    client = signed_in(app, "analyst1")
    before = audit_count(db)
    response = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", SERPENTINE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<dd class="named">蛇纹石玉</dd>' in page
    assert "检测为蛇纹石玉，与申报的翡翠不符" in page
    assert re.search(r'class="fail outcome">不合格<', page)
    assert "<dt>折射率</dt><dd>1.560</dd>" in page  # what the analyst typed, labelled
    assert preview_form(page) | {"digest": ""} == SERPENTINE | {"csrf_token": ANY, "digest": ""}
    db.rollback()
    assert db.exec(select(Inspection)).all() == []
    assert audit_count(db) == before
    assert db.get(Item, item.id).state == "received"  # type: ignore[union-attr]


def test_back_returns_to_the_form_with_every_value_kept(app: Flask, flow: Flow) -> None:
    item = received_jade(flow)
    client = signed_in(app, "analyst1")
    preview = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", SERPENTINE)
    carried = preview_form(preview.get_data(as_text=True))
    back = client.post(f"/lab/{item.code}", data={**carried, "action": "back"})
    page = back.get_data(as_text=True)
    assert back.status_code == 200 and 'name="action" value="preview"' in page
    assert 'value="1.56"' in page and 'value="2.60"' in page
    assert '<option value="aggregate" selected>' in page


def test_confirm_records_exactly_what_was_previewed(app: Flask, flow: Flow, db: Session) -> None:
    item = received_jade(flow)
    response = record_by_web(signed_in(app, "analyst1"), item.code, JADEITE)
    assert response.status_code == 302
    db.rollback()
    found = db.exec(select(Inspection)).one()
    assert (found.material_name_zh, found.verdict) == ("翡翠", "pass")
    assert found.measurements["ri"] == "1.660"
    assert db.get(Item, item.id).state == "review"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "tamper",
    [{"sg": "3.30"}, {"digest": "0" * 64}, {"mass_g": "12.30"}],
    ids=["readings", "digest", "mass"],
)
def test_a_confirm_that_differs_from_the_preview_is_refused(
    app: Flask, flow: Flow, db: Session, tamper: dict[str, str]
) -> None:
    item = received_jade(flow)
    client = signed_in(app, "analyst1")
    preview = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", JADEITE)
    carried = preview_form(preview.get_data(as_text=True)) | tamper
    response = client.post(f"/lab/{item.code}", data={**carried, "action": "confirm"})
    assert response.status_code == 409
    assert "预览之后测量值或判定有变化" in response.get_data(as_text=True)
    db.rollback()
    assert db.exec(select(Inspection)).all() == []


def test_another_analysts_preview_cannot_be_confirmed(app: Flask, flow: Flow, db: Session) -> None:
    """The digest names the analyst: a preview is confirmed by the person who saw it."""
    item = received_jade(flow)
    preview = post_form(
        signed_in(app, "analyst1"), f"/lab/{item.code}", f"/lab/{item.code}", JADEITE
    )
    carried = preview_form(preview.get_data(as_text=True))
    other = signed_in(app, "reviewer1")
    carried["csrf_token"] = csrf(other, f"/lab/{item.code}")
    response = other.post(f"/lab/{item.code}", data={**carried, "action": "confirm"})
    assert response.status_code == 409
    db.rollback()
    assert db.exec(select(Inspection)).all() == []


def test_every_bad_field_is_named_next_to_it(app: Flask, flow: Flow) -> None:
    item = received_jade(flow)
    client = signed_in(app, "analyst1")
    typed = {"mass_g": "", "ri": "7.2", "sg": "abc", "variety": "冰种"}
    response = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "有 3 处需要更正" in page
    for name in ("mass_g", "ri", "sg"):
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', page), name
        assert f'<p class="field-error" id="{name}-error"' in page
    assert 'value="7.2"' in page and 'value="abc"' in page and 'value="冰种"' in page


def test_a_species_the_readings_do_not_fit_is_told_at_the_species_field(
    app: Flask, flow: Flow
) -> None:
    item = received_jade(flow)
    client = signed_in(app, "analyst1")
    typed = SERPENTINE | {"species": "jadeite"}
    response = post_form(client, f"/lab/{item.code}", f"/lab/{item.code}", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="species"[^>]*aria-invalid="true"', page)
    assert "测量值与翡翠不符" in page


# -- withdraw ----------------------------------------------------------------------------------


def recorded(app: Flask, flow: Flow, db: Session, analyst: str = "analyst1") -> Inspection:
    item = received_jade(flow)
    assert record_by_web(signed_in(app, analyst), item.code, JADEITE).status_code == 302
    db.rollback()
    return db.exec(select(Inspection).where(Inspection.item_id == item.id)).one()


def withdraw_url(found: Inspection) -> str:
    return f"/lab/results/{found.id}/withdraw"


def test_the_analyst_withdraws_their_result_and_measures_again(
    app: Flask, flow: Flow, db: Session
) -> None:
    found = recorded(app, flow, db)
    item = db.get(Item, found.item_id)
    assert item is not None
    client = signed_in(app, "analyst1")
    lab = client.get("/lab").get_data(as_text=True)
    assert f'data-withdraw="{found.id}"' in lab  # 我录入的结果: offered on their own
    before = events(app, "withdraw_result")
    response = post_form(client, "/lab", withdraw_url(found), {})
    assert response.status_code == 302 and response.headers["Location"].endswith(item.code)
    db.rollback()
    db.refresh(found)
    db.refresh(item)
    assert (found.state, item.state) == ("withdrawn", "in_inspection")
    assert found.measurements["ri"] == "1.660"  # kept, not deleted
    assert events(app, "withdraw_result") == before + 1
    form = client.get(f"/lab/{item.code}").get_data(as_text=True)
    assert "已撤回" in form and 'name="action" value="preview"' in form  # history; measure again
    assert record_by_web(client, item.code, JADEITE).status_code == 302
    review = signed_in(app, "reviewer1").get("/review").get_data(as_text=True)
    assert f'href="/review/{found.id}"' not in review


@pytest.mark.parametrize(
    ("analyst", "reviewed", "status", "said", "state"),
    [
        ("reviewer2", False, 403, "只有录入该检测结果的检测员可以撤回", "submitted"),
        ("analyst1", True, 409, "检测结果已审核或已撤回，不能再撤回", "approved"),
    ],
    ids=["someone-elses", "reviewed"],
)
def test_a_withdraw_not_allowed_is_not_offered_and_refused_in_words(
    app: Flask,
    flow: Flow,
    db: Session,
    analyst: str,
    reviewed: bool,
    status: int,
    said: str,
    state: str,
) -> None:
    found = recorded(app, flow, db, analyst=analyst)
    if reviewed:
        flow.approve(found, reviewer="reviewer1")
    item = db.get(Item, found.item_id)
    assert item is not None
    client = signed_in(app, "analyst1")
    for page in (f"/lab/{item.code}", "/lab"):
        assert f'data-withdraw="{found.id}"' not in client.get(page).get_data(as_text=True)
    response = client.post(withdraw_url(found), data={"csrf_token": csrf(client, "/lab")})
    assert response.status_code == status
    assert said in response.get_data(as_text=True)
    db.rollback()
    db.refresh(found)
    assert found.state == state


def test_withdraw_and_approve_at_once_one_wins(app: Flask, flow: Flow, db: Session) -> None:
    found = recorded(app, flow, db)
    analyst, reviewer = signed_in(app, "analyst1"), signed_in(app, "reviewer1")
    analyst_token, reviewer_token = csrf(analyst, "/lab"), csrf(reviewer, f"/review/{found.id}")
    responses = race(
        [
            lambda: analyst.post(withdraw_url(found), data={"csrf_token": analyst_token}),
            lambda: reviewer.post(
                f"/review/{found.id}/approve", data={"csrf_token": reviewer_token}
            ),
        ]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 409], [r.get_data(as_text=True)[:300] for r in responses]
    loser = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
    assert "不能" in loser  # said in words
    with fresh(app) as now:
        state = now.get(Inspection, found.id).state  # type: ignore[union-attr]
        item_state = now.get(Item, found.item_id).state  # type: ignore[union-attr]
    assert (state, item_state) in {("withdrawn", "in_inspection"), ("approved", "approved")}
    assert events(app, "withdraw_result") + events(app, "approve_pass") == 1


# -- the review page's buttons ----------------------------------------------------------------


def test_the_review_buttons_are_not_offered_on_ones_own_result(
    app: Flask, flow: Flow, db: Session
) -> None:
    found = recorded(app, flow, db, analyst="reviewer1")
    own = signed_in(app, "reviewer1")
    page = own.get(f"/review/{found.id}").get_data(as_text=True)
    assert f"/review/{found.id}/approve" not in page and "/send-back" not in page
    assert "审核人不能审核自己录入的检测结果" in page
    refused = own.post(
        f"/review/{found.id}/approve", data={"csrf_token": csrf(own, f"/review/{found.id}")}
    )
    assert refused.status_code == 403
    assert "审核人不能审核自己录入的检测结果" in refused.get_data(as_text=True)
    other = signed_in(app, "reviewer2").get(f"/review/{found.id}").get_data(as_text=True)
    assert f"/review/{found.id}/approve" in other and f"/review/{found.id}/send-back" in other


def test_a_reviewed_result_offers_no_review_buttons(app: Flask, flow: Flow, db: Session) -> None:
    found = recorded(app, flow, db)
    flow.approve(found, reviewer="reviewer2")
    page = signed_in(app, "reviewer1").get(f"/review/{found.id}").get_data(as_text=True)
    assert f"/review/{found.id}/approve" not in page and "/send-back" not in page
    assert 'id="no-review"' in page
