"""The consumer's page on a phone: what a buyer sees after scanning the certificate's QR."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from qc_app import create_app
from qc_app.certificates.revocation import revoke
from qc_app.config import Config
from qc_app.db import engine_of
from qc_app.sqltypes import utcnow
from tests.browser.conftest import serve
from tests.browser.steps import PHONE, SHOTS, open_qr
from tests.claims_support import sell

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def test_genuine_certificate_on_a_phone(page: Page, live_server: str, flow) -> None:
    _, issued = flow.certified()
    open_qr(page, live_server, issued.verify_url)
    expect(page.locator(".verdict")).to_contain_text("真实有效")
    expect(page.locator("dl.facts")).to_contain_text("5.03 g")
    expect(page.locator("dl.facts")).to_contain_text("足金")
    photo = page.locator("img.photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") > 0
    # Fits the phone: nothing wider than the screen, verdict readable without zooming.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert (
        float(page.locator(".verdict").evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
        >= 24
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-phone-valid.png"), full_page=True)
    # The language switch keeps the QR's proof: the English page shows the same verdict.
    page.get_by_role("link", name="English").click()
    expect(page.locator(".verdict")).to_have_class("verdict valid")
    expect(page.locator("dl.facts")).to_contain_text("5.03 g")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_revoked_and_forged_codes_on_a_phone(page: Page, live_server: str, flow, db, world) -> None:
    _, issued = flow.certified()
    revoke(
        session=db,
        actor=world["admin1"],
        number=issued.certificate.number,
        reason="假一赔十理赔成立",
        now=utcnow(),
    )
    open_qr(page, live_server, issued.verify_url)
    expect(page.locator(".verdict")).to_contain_text("证书已吊销")
    expect(page.locator("body")).to_contain_text("假一赔十理赔成立")

    forged = issued.verify_url.replace("&s=", "&s=A")
    open_qr(page, live_server, forged)
    expect(page.locator(".verdict")).to_contain_text("伪造的二维码")
    expect(page.locator("dl.facts")).to_have_count(0)


def test_typing_number_and_check_code_in_english(page: Page, live_server: str, flow) -> None:
    _, issued = flow.certified()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/verify?lang=en")
    page.fill("#number", issued.certificate.number.lower())
    page.fill("#check_code", issued.check_code)
    page.keyboard.press("Enter")
    expect(page.locator(".verdict")).to_be_visible()
    expect(page.locator(".verdict")).to_have_class("verdict valid")


def test_guarantee_card_and_claim_button_only_when_covered(
    page: Page, live_server: str, flow
) -> None:
    covered = sell(flow)
    open_qr(page, live_server, covered.issued.verify_url)
    expect(page.locator("#guarantee")).to_be_visible()
    expect(page.locator("#guarantee h2")).to_have_text("假一赔十")
    expect(page.locator("#claim-link")).to_be_visible()
    expect(page.locator("#no-guarantee")).to_have_count(0)

    on_the_way = sell(flow, delivered=False)
    open_qr(page, live_server, on_the_way.issued.verify_url)
    expect(page.locator("#no-guarantee h2")).to_have_text("暂不能申请理赔")
    expect(page.locator("#no-guarantee")).to_contain_text("订单尚未签收")
    expect(page.locator("#guarantee")).to_have_count(0)
    expect(page.locator("#claim-link")).to_have_count(0)


def test_shop_that_never_joined_shows_no_guarantee(page: Page, live_server: str, flow) -> None:
    sold = sell(flow, labelled=False)
    open_qr(page, live_server, sold.issued.verify_url)
    expect(page.locator(".verdict")).to_contain_text("真实有效")
    expect(page.locator("#no-guarantee h2")).to_have_text("本证书无理赔保障")
    expect(page.locator("#no-guarantee")).to_contain_text("下单时该店铺未开通保障服务")
    expect(page.locator("#guarantee")).to_have_count(0)
    expect(page.locator("#claim-link")).to_have_count(0)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-phone-no-guarantee.png"), full_page=True)


def test_owner_registers_from_the_page_reached_by_number_and_code(
    page: Page, live_server: str, flow
) -> None:
    sold = sell(flow)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/verify")
    page.fill("#number", sold.number)
    page.fill("#check_code", sold.issued.check_code)
    page.keyboard.press("Enter")
    page.click("#register-owner")
    expect(page.locator("#owner")).to_contain_text("登记成功")
    page.goto(f"{live_server}/verify")  # again, as a second buyer with a copied code would
    page.fill("#number", sold.number)
    page.fill("#check_code", sold.issued.check_code)
    page.keyboard.press("Enter")
    expect(page.locator("#owner")).to_contain_text("登记过物主")
    expect(page.locator("#register-owner")).to_have_count(0)


@pytest.fixture
def limited_server(tmp_path, app) -> Iterator[str]:
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


def test_too_many_wrong_codes_show_how_long_to_wait(page: Page, limited_server: str, flow) -> None:
    sold = sell(flow)
    page.set_viewport_size(PHONE)
    for _ in range(3):
        page.goto(f"{limited_server}/verify")
        page.fill("#number", sold.number)
        page.fill("#check_code", "WRONG-CODE")
        page.keyboard.press("Enter")
        expect(page.locator(".verdict")).to_contain_text("未找到证书")
    page.goto(f"{limited_server}/verify")
    page.fill("#number", sold.number)
    page.fill("#check_code", sold.issued.check_code)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 429
    wait = int(answer.value.headers["retry-after"])
    assert 3500 <= wait <= 3600
    expect(page.locator("#wait h1")).to_have_text("请稍后再试")
    expect(page.locator("#wait")).to_contain_text(f"请在 {math.ceil(wait / 60)} 分钟后再试")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer-phone-429.png"), full_page=True)
