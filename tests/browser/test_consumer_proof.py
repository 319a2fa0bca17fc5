"""The proof of this very piece on the consumer's phone (issue 19): each signed intake photo is
marked as it loads; one replaced in the store is marked as not the signed one."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.steps import PHONE, SHOTS, open_qr
from tests.conftest import Flow, jpeg_bytes

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def test_a_replaced_intake_photo_shows_on_the_phone(
    page: Page, browser: Browser, live_server: str, flow: Flow
) -> None:
    _item, issued = flow.certified()
    signed = json.loads(issued.certificate.payload)["proof"]["photos"]
    assert [p["view"] for p in signed] == ["front", "back", "stamp"]
    open_qr(page, live_server, issued.verify_url)
    figures = page.locator("#intake-proof figure")
    expect(figures).to_have_count(3)
    for index in range(3):
        expect(figures.nth(index)).to_have_attribute("data-checked", "ok")
        expect(figures.nth(index)).to_contain_text("✓ 与签名一致")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    # The back photo is replaced in the store by a picture of another piece.
    back = signed[1]["sha256"]
    stored = flow.app.config["QC"].INSTANCE_PATH / "photos" / back[:2] / f"{back}.jpg"
    stored.write_bytes(jpeg_bytes(colour=(10, 200, 10)))
    # Another phone (the first one keeps the genuine photo it was served, by content address).
    page = browser.new_page(locale="zh-CN")
    open_qr(page, live_server, issued.verify_url)
    figures = page.locator("#intake-proof figure")
    expect(figures.nth(1)).to_have_attribute("data-checked", "bad")
    expect(figures.nth(1)).to_contain_text("照片无法核验")
    expect(figures.nth(1).locator("img")).to_be_hidden()
    expect(figures.nth(0)).to_have_attribute("data-checked", "ok")
    expect(figures.nth(2)).to_have_attribute("data-checked", "ok")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-proof-replaced.png"), full_page=True)
