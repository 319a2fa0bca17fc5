"""Staff accounts in the browser: a new inspector enrols the second factor by scanning the QR
code on the page (decoded here, its code computed with pyotp, as a phone would), and the admin
deactivates a user whose captured session then opens none of ten pages (security.md §8
checks 14 and 7)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from qc_app.auth.models import User
from qc_app.auth.services import create_user
from qc_app.sqltypes import utcnow
from tests.browser.steps import SHOTS, TERMINAL, log_in
from tests.conftest import Flow, World
from tests.web.test_staff_accounts import inspector_pages

NEW_PASSWORD = "lantern-over-the-west-lake"


def test_a_new_inspector_enrols_by_scanning_the_qr_code(
    page: Page, live_server: str, world: World, db: Session
) -> None:
    create_user(
        session=db,
        actor=world["admin1"],
        username="inspector7",
        password=NEW_PASSWORD,
        role="inspector",
        display_name="赵质检",
        now=utcnow(),
    )
    page.set_viewport_size(TERMINAL)
    page.goto(f"{live_server}/login")
    page.locator("#username").fill("inspector7")
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/login/enrol")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "enrol.png"), full_page=True)

    shot = page.locator("#totp-qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)).convert("L"))
    assert len(found) == 1 and found[0].text.startswith("otpauth://totp/")
    uri = urlsplit(found[0].text)
    secret = parse_qs(uri.query)["secret"][0]
    assert "inspector7" in uri.path and secret == page.locator("#totp-secret").inner_text()

    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("#code").press("Enter")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url("**/intake")
    db.rollback()
    user = db.exec(select(User).where(User.username == "inspector7")).one()
    assert user.totp_confirmed_at is not None


def test_the_admin_deactivates_a_user_and_their_session_ends(
    page: Page, browser: Browser, browser_context_args: dict[str, Any], live_server: str, flow: Flow
) -> None:
    pages = inspector_pages(flow.declare().code)
    terminal = browser.new_context(**browser_context_args).new_page()
    log_in(terminal, live_server, "inspector1")
    for path in pages:
        response = terminal.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200 and "/login" not in terminal.url
    captured = terminal.context.cookies()

    log_in(page, live_server, "admin1")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="inspector1").click()
    page.locator("#deactivate").click()
    expect(page.locator("#user-state")).to_contain_text("已停用")

    thief = browser.new_context(**browser_context_args)
    thief.add_cookies(captured)  # type: ignore[arg-type]
    stolen = thief.new_page()
    opened = 0
    for path in pages:
        stolen.goto(f"{live_server}{path}")
        opened += "/login" not in stolen.url
    assert opened == 0
    terminal.context.close()
    thief.close()
