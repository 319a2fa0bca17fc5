"""A list page at a terminal, keyboard only (issue 18): the admin searches the certificates,
filters them by status and pages through them; a scanner's code + Enter in the certify list's
search opens the item."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from qc_app import lists
from qc_app.certificates.revocation import revoke
from qc_app.sqltypes import utcnow
from tests.browser.steps import log_in
from tests.conftest import Flow

SHOTS = Path("/work/shots/i18-lists")


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_admin_searches_filters_and_pages_certificates(
    page: Page, live_server: str, flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    issued = [flow.certified()[1].certificate.number for _ in range(3)]
    revoke(
        session=flow.db, actor=flow.world["admin1"], number=issued[0], reason="测试", now=utcnow()
    )
    log_in(page, live_server, "admin1")
    page.goto(f"{live_server}/admin/certificates")
    page.locator("#q").focus()
    page.keyboard.type("GTC")
    page.keyboard.press("Enter")
    rows = page.locator("table tr td a.mono[href$='.pdf']")
    expect(rows).to_have_count(2)
    expect(page.locator("#q")).to_have_value("GTC")
    page.locator("a[rel=next]").focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text(issued[0])
    page.locator("#state").select_option("revoked")
    page.locator("#q").focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text(issued[0])
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    page.locator("#from").fill("2099-01-01")  # a from-date in the future: nothing issued since
    page.locator("#from").press("Enter")
    expect(rows).to_have_count(0)
    shoot(page, "certificates-filtered.png")


def test_a_scanned_code_in_the_certify_search_opens_its_issue_step(
    page: Page, live_server: str, flow: Flow
) -> None:
    _first, second = flow.approved(2)
    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/certify")
    expect(page.locator("#q")).to_be_focused()
    shoot(page, "certify-queue.png")
    page.keyboard.type(second.code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/certify/{second.code}")
    expect(page.locator("h1")).to_contain_text(second.code)
    expect(page.get_by_role("button", name="签发证书")).to_be_focused()
    shoot(page, "certify-scanned-item.png")
