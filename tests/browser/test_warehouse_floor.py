"""The warehouse terminals driven as a scanner would: the scanner types a code and Enter, the
balance types the mass and Enter, the camera is Chromium's fake device. No mouse."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item, Photo
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.browser.steps import SHOTS, TERMINAL, log_in, posts
from tests.conftest import Flow


def scan(page: Page, code: str) -> None:
    # A scanner may type before the page's script has run (the server's one-time token still
    # holds then); the tests wait so that each step is deterministic.
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def count(db: Any, action: str, code: str) -> int:
    db.rollback()
    query = select(func.count()).where(AuditEvent.action == action, AuditEvent.entity_id == code)
    return int(db.exec(query).one())


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def take_stills(page: Page, count: int) -> None:
    """F2 takes the next view of the intake set (front, back …), one still at a time."""
    expect(page.locator("[data-camera]")).to_have_attribute("data-live", "1", timeout=10_000)
    for taken in range(1, count + 1):
        page.keyboard.press("F2")
        expect(page.locator("[data-camera]")).to_have_attribute("data-captured", str(taken))


def test_intake_by_scanner_balance_and_camera(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    created = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": flow.world.listing_gold.id, "mass_g": "5.02"}] * 3,
        now=utcnow(),
    )
    first, second, third = (i.code for i in consignment_items(session=db, consignment=created))
    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/intake")
    expect(page.locator("#code")).to_be_focused()
    scan(page, created.code)
    expect(page.locator("h1")).to_contain_text(created.code)
    expect(page.locator(".tally")).to_contain_text("3")

    # Item label; F2 takes the front and the back; then the balance: Enter submits and the
    # camera takes the third view (the stamp) itself.
    scan(page, first)
    expect(page.locator("#mass_g")).to_be_focused()
    take_stills(page, 2)
    shoot(page, "intake-weigh.png")
    scan(page, "5.03")
    panel = page.locator(".flash")
    expect(panel).to_have_class("flash success")
    expect(panel).to_contain_text(f"已收货 {first}")
    expect(page.locator("body")).to_have_attribute("data-beeped", "success")
    expect(page.locator("#item_code")).to_be_focused()
    db.rollback()
    photos = db.exec(select(Photo).where(Photo.kind == "intake")).all()
    assert [p.view for p in photos] == ["front", "back", "stamp"] and photos[0].width > 0

    # A double Enter from the balance: one receive, one green panel.
    scan(page, second)
    expect(page.locator("#mass_g")).to_be_focused()
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    take_stills(page, 2)
    page.keyboard.type("5.02")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text(f"已收货 {second}")
    assert count(db, "receive", second) == 1

    # The same label scanned twice: amber "already received", nothing recorded.
    scan(page, first)
    expect(page.locator(".flash")).to_have_class("flash warning")
    expect(page.locator(".flash")).to_contain_text("已收货")
    assert count(db, "receive", first) == 1

    # A label that is not ours: red, low buzz.
    scan(page, "QCFAKE0001")
    expect(page.locator(".flash")).to_have_class("flash error")
    expect(page.locator("body")).to_have_attribute("data-beeped", "error")
    shoot(page, "intake-consignment.png")

    # Esc leaves the weighing step without recording anything.
    scan(page, third)
    expect(page.locator("#mass_g")).to_be_focused()
    expect(page.locator("html")).to_have_attribute("data-ready", "1")  # Esc's handler is on
    page.keyboard.press("Escape")
    expect(page.locator("#item_code")).to_be_focused()

    # Close with the keyboard only: focus the button, Enter. The third item is missing.
    page.locator("form[action$='/close'] button").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("缺失 1 件")
    assert count(db, "hold", third) == 1


@pytest.mark.usefixtures("cjk_font_path")
def test_packing_station_refuses_a_mismatch_then_packs(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    item, issued = flow.certified()
    other, other_issued = flow.certified()
    for order_no, waybill in (("DY-1", "SF1"), ("DY-2", "SF2")):
        create_order(
            session=db,
            actor=flow.world["admin1"],
            order_no=order_no,
            listing_id=flow.world.listing_gold.id,
            price_paid_fen=328000,
            waybill_no=waybill,
            now=utcnow(),
        )
    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/packing")
    expect(page.locator("#waybill_no")).to_be_focused()

    # The wrong certificate for the item: refused loudly, nothing packed.
    for code in ("SF1", item.code, other_issued.verify_url, "SEAL-0001", "5.03"):
        scan(page, code)
    panel = page.locator(".flash")
    expect(panel).to_have_class("flash error")
    expect(panel).to_contain_text("证书不属于该物品")
    expect(page.locator("body")).to_have_attribute("data-beeped", "error")
    shoot(page, "packing-mismatch.png")
    assert count(db, "pack", item.code) == 0

    # All five scans right: packed, with the packing photo from the camera.
    expect(page.locator("[data-camera]")).to_have_attribute("data-live", "1", timeout=10_000)
    for code in ("SF1", item.code, issued.verify_url, "SEAL-0001", "5.03"):
        scan(page, code)
    expect(page.locator(".flash")).to_have_class("flash success")
    expect(page.locator(".flash")).to_contain_text(f"已打包 DY-1 · {item.code} · 封签 SEAL-0001")
    # The packing photo beside the intake set, every picture loaded.
    compare = page.locator("#compare figure img")
    expect(compare).to_have_count(4)
    for index in range(4):
        expect(compare.nth(index)).to_have_js_property("complete", True)
        assert compare.nth(index).evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#compare figure.packing")).to_contain_text("打包照片")
    shoot(page, "packing-ok.png")
    assert count(db, "pack", item.code) == 1
    db.rollback()
    assert db.exec(select(Photo).where(Photo.kind == "packing")).first() is not None
    assert other.state == "certified"


@pytest.mark.usefixtures("cjk_font_path")
def test_dashboard_and_timeline_for_the_platform(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    item, _ = flow.certified()
    failed = flow.declare()
    flow.receive(failed)
    flow.approve(flow.inspect(failed, fineness="750"))
    flow.receive(flow.declare(mass_g="9.00"), mass_g="8.00")  # short: on hold
    log_in(page, live_server, "admin1")
    page.goto(f"{live_server}/dashboard")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(5)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= TERMINAL["width"]
    shoot(page, "dashboard.png")
    page.goto(f"{live_server}/items/{item.code}")
    thumb = page.locator("img.thumb").first
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") > 0
    shoot(page, "timeline.png")


def test_an_item_is_put_on_hold_and_released_from_its_page(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    item = flow.declare()
    flow.receive(item)
    log_in(page, live_server, "inspector1")
    sent = posts(page)
    page.goto(f"{live_server}/items/{item.code}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.fill("#reason", "封口胶带破损")
    page.get_by_role("button", name="挂起").dblclick()
    expect(page.locator("dl.facts")).to_contain_text("封口胶带破损")
    db.rollback()
    assert (db.get(Item, item.id).state, count(db, "hold", item.code)) == ("on_hold", 1)

    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.get_by_role("button", name="解除挂起").dblclick()
    page.fill("#note", "胶带为运输中擦破，物品完好")
    page.locator("#confirm").dblclick()
    expect(page.get_by_role("button", name="挂起")).to_be_visible()
    db.rollback()
    assert (db.get(Item, item.id).state, count(db, "release", item.code)) == ("received", 1)
    release = f"/items/{item.code}/release"
    assert sent == [f"/items/{item.code}/hold", release, release]  # asked, then confirmed
