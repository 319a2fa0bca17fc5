"""A lab day (issue 18): an analyst at a terminal records three items by scanner and keyboard
only, previewing each judgement before confirming it (a jadeite with the species left blank is
named 蛇纹石玉 by the rules: back, fix, confirm), withdraws one result and records it again; a
reviewer approves the three, and is offered no approve button on a result of their own."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from qc_app.inspection.models import Inspection
from qc_app.items.models import Item
from tests.browser.steps import SHOTS, enter_through, log_in
from tests.conftest import Flow

SERPENTINE_AS_TYPED = {"mass_g": "12.41", "ri": "1.56", "sg": "2.60", "optic": "aggregate"}
GOLD = {"mass_g": "5.03", "metal": "Au", "fineness_permille": "999.2"}


def scan(page: Page, live_server: str, code: str) -> None:
    page.goto(f"{live_server}/lab")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lab/{code}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")


def confirm(page: Page) -> None:
    """On the preview: 确认记录 has the focus, Enter records."""
    expect(page.get_by_role("button", name="确认记录")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/lab?done=*")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"day-lab-{name}.png"), full_page=True)


def test_a_lab_day_recorded_withdrawn_and_reviewed(
    page: Page, browser: Browser, live_server: str, flow: Flow, db: Session
) -> None:
    jade = flow.receive(flow.declare(material="JADEITE", mass_g="12.40"), mass_g="12.41")
    ring, bangle = (flow.receive(flow.declare()) for _ in range(2))
    own = flow.receive(flow.declare())
    flow.inspect(own, analyst="reviewer1")  # the reviewer measured this one themselves
    log_in(page, live_server, "analyst1")

    # 1. The jadeite, species left blank: the preview says what the rules name it.
    scan(page, live_server, jade.code)
    enter_through(page, SERPENTINE_AS_TYPED)
    expect(page.locator("dd.named")).to_have_text("蛇纹石玉")
    expect(page.locator("dd.outcome")).to_have_text("不合格")
    expect(page.locator("ul.reasons")).to_contain_text("检测为蛇纹石玉，与申报的翡翠不符")
    shot(page, "1-preview-serpentine")
    db.rollback()
    assert db.exec(select(Inspection).where(Inspection.item_id == jade.id)).all() == []

    # Esc: back to the form, every value kept; the analyst identifies it and corrects readings.
    page.keyboard.press("Escape")
    expect(page.locator("form.measure")).to_be_visible()
    expect(page.locator("#ri")).to_have_value("1.56")
    expect(page.locator("#optic")).to_have_value("aggregate")
    shot(page, "2-back-to-the-form")
    page.locator("#species").focus()
    page.locator("#species").select_option("jadeite")
    page.keyboard.press("Enter")
    expect(page.locator("#ri")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("1.66")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.type("3.33")
    page.locator("form.measure input:not([type=hidden]), form.measure select").last.press("Enter")
    expect(page.locator("dd.named")).to_have_text("翡翠")
    expect(page.locator("dd.outcome")).to_have_text("合格")
    shot(page, "3-preview-jadeite")
    confirm(page)

    # 2 and 3. Two gold pieces, Enter field to field.
    for item in (ring, bangle):
        scan(page, live_server, item.code)
        enter_through(page, GOLD)
        expect(page.locator("dd.named")).to_have_text("足金")
        confirm(page)

    # The bangle's result is withdrawn from the list of the analyst's own results, then
    # measured again: the withdrawn row stays in the history.
    withdrawn = db_result(db, bangle)
    mine = page.locator(f'button[data-withdraw="{withdrawn.id}"]')
    expect(page.locator(f'button[data-withdraw="{db_result(db, ring).id}"]')).to_be_visible()
    shot(page, "4-my-results")
    mine.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lab/{bangle.code}")
    expect(page.locator(".flash.success")).to_contain_text("已撤回")
    expect(page.locator("table.history")).to_contain_text("已撤回")
    expect(page.locator("#mass_g")).to_be_focused()
    shot(page, "5-withdrawn")
    enter_through(page, GOLD)
    confirm(page)

    # The reviewer, at another terminal.
    reviewer = browser.new_context(locale="zh-CN").new_page()
    log_in(reviewer, live_server, "reviewer1")
    own_result = db_result(db, own)
    reviewer.goto(f"{live_server}/review/{own_result.id}")
    expect(reviewer.get_by_role("button", name="审核通过")).to_have_count(0)
    expect(reviewer.locator("#no-review")).to_contain_text("审核人不能审核自己录入的检测结果")
    shot(reviewer, "6-review-own-result")
    for item in (jade, ring, bangle):
        reviewer.goto(f"{live_server}/review/{db_result(db, item).id}")
        expect(reviewer.get_by_role("button", name="审核通过")).to_be_focused()
        if item is jade:
            shot(reviewer, "7-review")
        reviewer.keyboard.press("Enter")
        reviewer.wait_for_url("**/review")
    shot(reviewer, "8-review-queue")
    reviewer.context.close()

    db.rollback()
    stored = {
        i.item_id: (i.state, i.material_name_zh, i.verdict, i.analyst_id)
        for i in db.exec(select(Inspection).where(Inspection.state != "withdrawn"))
    }
    analyst = flow.world["analyst1"].id
    assert stored[jade.id] == ("approved", "翡翠", "pass", analyst)
    assert stored[ring.id] == ("approved", "足金", "pass", analyst)
    assert stored[bangle.id] == ("approved", "足金", "pass", analyst)
    assert stored[own.id][0] == "submitted"
    kept = db.get(Inspection, withdrawn.id)
    assert kept is not None and (kept.state, kept.item_id) == ("withdrawn", bangle.id)
    for item in (jade, ring, bangle):
        assert state_of(db, item) == "approved"
    jadeite = db_result(db, jade)
    assert (jadeite.measurements["ri"], jadeite.measurements["species"]) == ("1.660", "jadeite")


def db_result(db: Session, item: Item) -> Inspection:
    """The item's newest result as the database holds it now."""
    db.rollback()
    found = db.exec(
        select(Inspection).where(Inspection.item_id == item.id).order_by(Inspection.id.desc())  # type: ignore[union-attr]
    ).first()
    assert found is not None
    return found


def state_of(db: Session, item: Item) -> Any:
    fresh = db.get(Item, item.id)
    assert fresh is not None
    db.refresh(fresh)
    return fresh.state
