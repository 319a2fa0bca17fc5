"""On a phone: the consumer page's scan counter, seal number and guarantee, and filing a claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.steps import PHONE, SHOTS, open_qr
from tests.claims_support import sell
from tests.conftest import jpeg_bytes

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def fits(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def test_page_shows_seal_scans_and_guarantee(page: Page, live_server: str, flow) -> None:
    sold = sell(flow)
    open_qr(page, live_server, sold.issued.verify_url)
    expect(page.locator(".verdict")).to_contain_text("真实有效")
    expect(page.locator("dl.facts")).to_contain_text(sold.order.seal_no or "")
    expect(page.locator("#scans")).to_contain_text("首次")
    expect(page.locator("#guarantee")).to_contain_text("不保障：克重、产地、品种、皮色")
    expect(page.locator("#claim-link")).to_be_visible()
    fits(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-phone-guarantee.png"), full_page=True)
    page.reload()
    expect(page.locator("#scans")).to_contain_text("2 次")


def test_filing_a_claim_on_a_phone(page: Page, live_server: str, flow, tmp_path: Path) -> None:
    sold = sell(flow)
    photo = tmp_path / "fake.jpg"
    photo.write_bytes(jpeg_bytes(exif_gps=True))
    open_qr(page, live_server, sold.issued.verify_url)
    page.click("#claim-link")
    expect(page.locator("h1")).to_contain_text("申请假一赔十理赔")
    fits(page)
    page.fill("#order_no", sold.order.order_no)
    page.check("input[name=reason][value=material]")
    page.fill("#description", "拿去检测机构，说是镀金的")
    page.set_input_files("#evidence", str(photo))
    page.fill("#postage_yuan", "12.50")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-phone-claim-form.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page.locator(".verdict")).to_contain_text("理赔已提交")
    number = page.locator("#claim-number").inner_text()
    secret = page.locator("#claim-secret").inner_text()
    page.screenshot(path=str(SHOTS / "consumer-phone-claim-filed.png"), full_page=True)
    page.goto(f"{live_server}/claims/track")
    page.fill("#number", number)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    expect(page.locator("#claim-status")).to_contain_text("已提交，待商家答复")


def test_out_of_scope_reason_is_answered_on_a_phone(page: Page, live_server: str, flow) -> None:
    sold = sell(flow)
    open_qr(page, live_server, sold.issued.verify_url)
    page.click("#claim-link")
    page.fill("#order_no", sold.order.order_no)
    page.check("input[name=reason][value=skin]")
    page.fill("#description", "皮色和图片不一样")
    page.click("button[type=submit]")
    expect(page.locator("#explanation")).to_contain_text("皮色不在保障范围内")
