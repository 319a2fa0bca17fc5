"""Issue 18 on a phone (390 px): tries left after a wrong check code, the certificate PDF and
the claim's tracking code downloaded, and a language switch that is not another scan."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from qc_app import create_app
from qc_app.config import Config
from qc_app.db import engine_of
from tests.browser.conftest import serve
from tests.browser.steps import PHONE, SHOTS, open_qr
from tests.claims_support import sell
from tests.conftest import jpeg_bytes

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def fits(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"consumer-phone-{name}.png"), full_page=True)


@pytest.fixture
def limited_server(tmp_path: Path, app: Flask) -> Iterator[str]:
    """Another worker of `app`'s deployment with the check-code budgets on (3 per number)."""
    worker = create_app(
        Config.for_tests(
            tmp_path / "limited",
            engine_of(app).url.render_as_string(hide_password=False),
            CHECK_CODE_SECRET=app.config["QC"].CHECK_CODE_SECRET,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
            CHECK_CODE_BUDGET_PER_CLIENT_NUMBER="3/hour",
        )
    )
    yield from serve(worker)
    engine_of(worker).dispose()
    worker.extensions["qc_counter_engine"].dispose()


def test_a_wrong_code_shows_the_tries_left(page: Page, limited_server: str, flow) -> None:
    sold = sell(flow)
    page.set_viewport_size(PHONE)
    page.goto(f"{limited_server}/verify")
    page.fill("#number", sold.number)
    page.fill("#check_code", "WRONG-CODE")
    page.keyboard.press("Enter")
    expect(page.locator(".verdict")).to_contain_text("未找到证书")
    expect(page.locator("#tries-left")).to_contain_text("还可以再试 2 次")
    expect(page.locator("#next-steps")).to_contain_text("注意数字 0 和字母 O")
    fits(page)
    shot(page, "tries-left")


def test_the_certificate_pdf_is_downloaded_as_issued(page: Page, live_server: str, flow) -> None:
    sold = sell(flow)
    open_qr(page, live_server, sold.issued.verify_url)
    expect(page.locator("#next-steps")).to_contain_text("核对照片、质量和封签号")
    fits(page)
    shot(page, "valid-next-steps")
    with page.expect_download() as download:
        page.click("#certificate-pdf")
    data = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sold.issued.certificate.pdf_sha256


def test_switching_language_is_not_another_scan(page: Page, live_server: str, flow) -> None:
    sold = sell(flow)
    open_qr(page, live_server, sold.issued.verify_url)
    expect(page.locator("#scans")).to_contain_text("这是该证书首次被消费者查验")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#scans")).to_contain_text("the first time")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("#scans")).to_contain_text("这是该证书首次被消费者查验")
    shot(page, "after-language-switch")


def test_the_tracking_code_is_kept_as_a_text_file(
    page: Page, live_server: str, flow, tmp_path: Path
) -> None:
    sold = sell(flow)
    photo = tmp_path / "fake.jpg"
    photo.write_bytes(jpeg_bytes(exif_gps=True))
    open_qr(page, live_server, sold.issued.verify_url)
    page.click("#claim-link")
    page.fill("#order_no", sold.order.order_no)
    page.check("input[name=reason][value=material]")
    page.fill("#description", "拿去检测机构，说是镀金的")
    page.set_input_files("#evidence", str(photo))
    page.click("button[type=submit]")
    expect(page.locator(".verdict")).to_contain_text("理赔已提交")
    secret = page.locator("#claim-secret").inner_text()
    expect(page.locator("#sms-text")).to_contain_text(secret)
    fits(page)
    shot(page, "claim-secret-kept")
    with page.expect_download() as download:
        page.click("#download-secret")
    assert download.value.suggested_filename.endswith(".txt")
    assert secret in Path(download.value.path()).read_text(encoding="utf-8")
    # Back on the certificate's page the claim is not offered again: its tracking is.
    open_qr(page, live_server, sold.issued.verify_url)
    expect(page.locator("#track-link")).to_be_visible()
    expect(page.locator("#claim-link")).to_have_count(0)
    shot(page, "already-claimed")
