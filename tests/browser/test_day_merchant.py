"""A merchant's day (issue 18), keyboard first at a terminal: a listing whose title claims an
origin shows the warning, the title is fixed and the warning is gone; then a consignment of
four rows (the fourth added with Alt+N) with one bad row, fixed in place without retyping the
others; the form fits a 1280-wide terminal and stacks on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from qc_app.items.models import Item
from qc_app.listings.models import Listing
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow
from tests.browser.steps import PHONE, log_in, shoot
from tests.conftest import Flow

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cjk_font_path")]
ROW = ("listing_id", "declared_material", "mass_g", "price_yuan", "order_no", "description")
ROW_END = ("article_type", "components")


def type_row(page: Page, n: int, typed: dict[str, str], *, last: str = "Enter") -> None:
    """Field after field with Enter, as a scanner or a quick typist does; `last` is the key
    pressed in the row's last field (Enter: on to the next row, or send on the last row)."""
    fields = ROW + ROW_END
    for index, field in enumerate(fields):
        box = page.locator(f'[name="rows-{n}-{field}"]')
        expect(box).to_be_focused()
        if typed.get(field):
            page.keyboard.type(typed[field])
        page.keyboard.press(last if index == len(fields) - 1 else "Enter")


def test_a_merchant_fixes_a_title_then_sends_a_consignment(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    merchant = flow.world["merchant1"]
    jade = create_listing(
        session=db,
        actor=merchant,
        title="缅甸冰种翡翠手镯",
        brand="翠华",
        material_code="JADEITE",
        price_fen=199900,
        now=utcnow(),
    )
    log_in(page, live_server, "merchant1")

    page.goto(f"{live_server}/m/listings/{jade.id}")
    warnings = page.get_by_test_id("title-warnings")
    expect(warnings).to_contain_text("缅甸")
    shoot(page, "day-merchant-1-title-warns.png")
    page.locator("details.edit-listing summary").focus()
    page.keyboard.press("Enter")  # opens the edit form
    page.locator("#edit-title").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("翡翠手镯")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("标题与申报材质一致")
    expect(page.get_by_test_id("title-warnings")).to_have_count(0)
    db.expire_all()
    assert db.get(Listing, jade.id).title == "翡翠手镯"
    expect(page.locator("h1")).to_contain_text("翡翠手镯")
    shoot(page, "day-merchant-2-title-fixed.png")

    gold = flow.world.listing_gold
    page.goto(f"{live_server}/m/consignments")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    type_row(page, 1, {"listing_id": f"#{gold.id} {gold.title}", "mass_g": "5.02"})
    type_row(page, 2, {"listing_id": str(jade.id), "mass_g": "31.5", "description": "冰种"})
    type_row(
        page, 3, {"listing_id": gold.title, "mass_g": "abc", "price_yuan": "2999"}, last="Alt+n"
    )
    expect(page.locator('[name="rows-4-listing_id"]')).to_be_focused()  # a row added
    expect(page.locator("fieldset[data-row] legend").last).to_have_text("第 4 件")
    type_row(page, 4, {"listing_id": str(gold.id), "mass_g": "7.10", "order_no": ""})
    # Enter in the last row's last field sent the form: refused, the bad field named.
    error = page.locator("#rows-3-mass_g-error")
    expect(error).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(1)
    for name, value in (
        ("rows-1-listing_id", f"#{gold.id} {gold.title}"),
        ("rows-2-description", "冰种"),
        ("rows-3-price_yuan", "2999"),
        ("rows-3-mass_g", "abc"),
        ("rows-4-mass_g", "7.10"),
    ):
        expect(page.locator(f'[name="{name}"]')).to_have_value(value)
    db.rollback()
    assert db.exec(select(Item)).all() == []
    shoot(page, "day-merchant-3-row-refused.png")

    # The order-number column is whole at a terminal.
    order_box = page.locator("#rows-1-order_no").bounding_box()
    row_box = page.locator("fieldset[data-row]").first.bounding_box()
    assert order_box and row_box and order_box["width"] >= 150
    assert order_box["x"] + order_box["width"] <= row_box["x"] + row_box["width"]

    page.locator("#rows-3-mass_g").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("4.20")
    page.get_by_role("button", name="提交送检单").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("送检单已提交，共 4 件")
    shoot(page, "day-merchant-4-sent.png")
    db.rollback()
    items = db.exec(select(Item).order_by(Item.id)).all()
    assert [(i.listing_id, i.declared_mass_cg) for i in items] == [
        (gold.id, 502),
        (jade.id, 3150),
        (gold.id, 420),
        (gold.id, 710),
    ]
    assert items[2].price_fen == 299900 and items[1].description == "冰种"

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/m/consignments")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"]
    listing_box = page.locator("#rows-1-listing_id").bounding_box()
    assert listing_box and listing_box["width"] > PHONE["width"] * 0.7  # the rows stack
    shoot(page, "day-merchant-5-phone.png")
