"""The analyst's terminal: scanner and keyboard only, no mouse, from scan to a judged result."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from qc_app.inspection.models import Inspection
from qc_app.items.models import Item
from tests.browser.steps import SHOTS, log_in, posts
from tests.conftest import Flow


def test_an_analyst_judges_treated_jadeite_with_the_keyboard_only(
    page: Page, live_server: str, flow: Flow, db: Session
) -> None:
    item = flow.declare(material="JADEITE", mass_g="12.40")
    flow.receive(item, mass_g="12.41")
    log_in(page, live_server, "analyst1")
    page.goto(f"{live_server}/lab")
    page.keyboard.type(item.code)  # the scanner types the code, then Enter
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lab/{item.code}")
    expect(page.locator("#mass_g")).to_be_focused()

    # Enter moves field to field (a balance ends its reading with Enter); it never submits.
    page.keyboard.type("12.41")
    page.keyboard.press("Enter")
    expect(page.locator("#species")).to_be_focused()
    page.locator("#ri").fill("7.2")
    page.locator("#ri").press("Enter")
    expect(page.locator("#sg")).to_be_focused()
    page.locator("form.measure button[type=submit]:not(.default-submit)").press("Enter")
    # A reading out of range is refused next to its field, and what was typed stays.
    expect(page.locator("#ri-error")).to_contain_text("折射率超出范围")
    expect(page.locator("#mass_g")).to_have_value("12.41")

    page.locator("#ri").fill("1.66")
    page.locator("#sg").fill("3.10")
    page.locator("#species").select_option("jadeite")
    page.locator("#ir_polymer").press("Space")  # tick the screening box from the keyboard
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-form.png"), full_page=True)
    page.locator("form.measure input:not([type=hidden]), form.measure select").last.press("Enter")
    expect(page.locator("dd.named")).to_have_text("翡翠（处理）")
    expect(page.get_by_role("button", name="确认记录")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/lab?done=*")
    expect(page.locator(".flash")).to_contain_text(item.code)

    db.rollback()
    found = db.exec(select(Inspection)).one()
    assert (found.material_name_zh, found.verdict) == ("翡翠（处理）", "fail")


def test_a_reviewer_approves_one_result_and_sends_another_back(
    page: Page, live_server: str, flow: Flow, db: Session
) -> None:
    approved, sent_back = (flow.declare() for _ in range(2))
    for item in (approved, sent_back):
        flow.receive(item)
        flow.inspect(item)
    ids = {i.item_id: i.id for i in db.exec(select(Inspection))}
    log_in(page, live_server, "reviewer1")
    sent = posts(page)

    page.goto(f"{live_server}/review/{ids[approved.id]}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.get_by_role("button", name="审核通过").dblclick()
    page.wait_for_url("**/review")

    page.goto(f"{live_server}/review/{ids[sent_back.id]}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.fill("#note", "XRF 读数偏低，请重测")
    page.get_by_role("button", name="退回复检").dblclick()
    page.wait_for_url("**/review")

    db.rollback()
    states = {i.item_id: (i.state, i.review_note) for i in db.exec(select(Inspection))}
    assert states[approved.id] == ("approved", None)
    assert states[sent_back.id] == ("sent_back", "XRF 读数偏低，请重测")
    assert (db.get(Item, approved.id).state, db.get(Item, sent_back.id).state) == (
        "approved",
        "in_inspection",
    )
    assert sent == [
        f"/review/{ids[approved.id]}/approve",
        f"/review/{ids[sent_back.id]}/send-back",
    ]
