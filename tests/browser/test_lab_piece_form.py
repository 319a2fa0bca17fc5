"""The lab's form for a set piece (issue 19): the whole piece, then one section per declared
component; scanner and keyboard only, Enter moves to the next field and only the last submits."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from qc_app.inspection.models import Inspection
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow
from tests.browser.steps import SHOTS, enter_through, log_in
from tests.conftest import Flow
from tests.integration.test_set_piece_path import PIECE, RING_SIZE

# What the analyst reads off the balance, the XRF and the gem instruments, by form field.
TYPED = {
    "mass_g": "3.21",
    "c1-metal": "Au",
    "c1-fineness_permille": "751.0",
    "c1-stamp": "18K",
    "c2-growth": "natural",
    "c2-count": "1",
    "c2-diamond_mass_g": "0.0598",
    "c2-colour_grade": "H",
    "c2-clarity_grade": "VS1",
    "c3-species": "ruby",
    "c3-growth": "natural",
    "c3-count": "2",
}


def three_component_ring(flow: Flow) -> Item:
    merchant = flow.world["merchant1"]
    listing = create_listing(
        session=flow.db,
        actor=merchant,
        title="18K金钻石红宝石戒指",
        brand="金福",
        material_code="AU750",
        price_fen=688000,
        now=utcnow(),
    )
    consignment = create_consignment(
        session=flow.db,
        actor=merchant,
        items=[{"listing_id": listing.id, "mass_g": "3.20", **PIECE}],
        now=utcnow(),
    )
    item = consignment_items(session=flow.db, consignment=consignment)[0]
    return flow.receive(item, mass_g="3.21", dimensions=RING_SIZE)


def test_an_analyst_measures_a_three_component_ring_with_the_keyboard_only(
    page: Page, live_server: str, flow: Flow, db: Session
) -> None:
    item = three_component_ring(flow)
    log_in(page, live_server, "analyst1")
    page.goto(f"{live_server}/lab")
    page.keyboard.type(item.code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lab/{item.code}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    expect(page.locator("section.part h2")).to_have_count(4)
    expect(page.locator("#part-1 h2")).to_contain_text("18K金")
    expect(page.locator("#part-2 h2")).to_contain_text("钻石")
    expect(page.locator("#part-3 h2")).to_contain_text("红宝石")

    # A fineness beyond the XRF's range: refused with the component named, what was typed stays.
    enter_through(page, TYPED | {"c1-fineness_permille": "7510"})
    expect(page.locator("#c1-fineness_permille-error")).to_contain_text("组成部分 1")
    expect(page.locator("#c1-fineness_permille-error")).to_contain_text("超出范围")
    expect(page.locator('[name="c2-diamond_mass_g"]')).to_have_value("0.0598")
    expect(page.locator('[name="c3-species"]')).to_have_value("ruby")
    db.rollback()
    assert db.exec(select(Inspection)).all() == []

    page.locator('[name="c1-fineness_permille"]').fill("751.0")
    expect(page.locator("#mass_g")).to_have_value("3.21")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-piece-form.png"), full_page=True)
    page.locator("form.measure select, form.measure input:not([type=hidden])").last.press("Enter")
    expect(page.locator("dd.named")).to_have_text("18K金钻石、红宝石戒指")
    expect(page.locator(".card.part")).to_have_count(3)
    page.screenshot(path=str(SHOTS / "lab-piece-preview.png"), full_page=True)
    page.keyboard.press("Enter")  # 确认记录 has the focus
    page.wait_for_url("**/lab?done=*")

    db.rollback()
    found = db.exec(select(Inspection)).one()
    assert (found.material_name_zh, found.verdict) == ("18K金钻石、红宝石戒指", "pass")
    parts = found.parts or []
    assert [p["verdict"] for p in parts] == ["pass", "pass", "pass"]
    assert parts[0]["measured"]["fineness_permille"] == "751.0"
    assert parts[1]["grading"]["carat"] == "0.30"  # 0.0598 g = 0.299 ct, 逢九进一
    assert parts[1]["grading"]["colour"] == "H"
    assert str(parts[2]["measured"]["count"]) == "2"
    assert found.measurements["mass_g"] == "3.21"
