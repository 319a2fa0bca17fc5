"""An admin's claim day (issue 18), keyboard first: the claims list, the claim's case file,
邮费 typed and Enter pressed (nothing decided: the confirmation shows), upheld with a note,
then the order, the item's timeline and the dashboard tell the outcome."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from qc_app.claims.models import Claim
from tests.browser.steps import SHOTS, log_in
from tests.claims_support import accept, file, sell
from tests.conftest import Flow

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cjk_font_path")]
OUT = Path(os.environ.get("QC_SHOTS", SHOTS))


def shoot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / name), full_page=True)


def test_an_admin_decides_a_claim_from_its_case_file(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    sold = sell(flow)
    number = file(flow, sold).claim.number
    accept(flow, number)
    log_in(page, live_server, "admin1")

    page.goto(f"{live_server}/claims")
    page.get_by_role("link", name=number).click()
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    case = page.get_by_test_id("case-file")
    for fact in (sold.order.order_no, sold.item.code, sold.number, "签名验证通过", "¥3,000.00"):
        expect(case).to_contain_text(fact)
    expect(page.locator("#payout-preview")).to_have_text("¥33,012.00")
    shoot(page, "day-admin-claim-1-case-file.png")

    page.fill("#postage", "15.00")
    page.locator("#postage").press("Enter")
    expect(page.get_by_test_id("confirmation")).to_contain_text("¥33,015.00")
    db.rollback()
    assert db.exec(select(Claim)).one().state == "accepted"  # Enter only asked
    shoot(page, "day-admin-claim-2-confirm.png")

    page.keyboard.type("专柜鉴定报告确认为镀金，理赔成立")
    page.locator("#confirm").click()
    expect(page.locator(".flash")).to_have_text("已裁定")
    expect(page.locator("#payout")).to_have_text("¥33,015.00")
    shoot(page, "day-admin-claim-3-decided.png")

    page.goto(f"{live_server}/admin/orders")
    expect(page.locator("table").last).to_contain_text("理赔成立，已赔付")
    page.goto(f"{live_server}/items/{sold.item.code}")
    expect(page.locator("table.timeline")).to_contain_text("证书吊销")
    expect(page.locator("table.timeline")).to_contain_text("专柜鉴定报告确认为镀金")
    shoot(page, "day-admin-claim-4-timeline.png")
    page.goto(f"{live_server}/dashboard")
    expect(page.get_by_test_id("claims-upheld")).to_contain_text("1")
    shoot(page, "day-admin-claim-5-dashboard.png")
