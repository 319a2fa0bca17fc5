"""What the browser tests do again and again: sign in at a terminal, open a QR on a phone."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.auth_support import TOTP
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
TERMINAL = {"width": 1280, "height": 800}
SHOTS = Path(os.environ.get("QC_SHOTS", Path(__file__).resolve().parents[2] / "test-results"))


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot into SHOTS (QC_SHOTS when set), to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def log_in(page: Page, live_server: str, username: str) -> None:
    """At a terminal, keyboard only: user name, Tab, password, Enter; staff then type the
    code their authenticator shows, Enter."""
    page.set_viewport_size(TERMINAL)
    page.goto(f"{live_server}/login")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: not url.endswith("/login"))
    if page.url.endswith("/login/code"):
        page.keyboard.type(TOTP.code(username))
        page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def open_qr(page: Page, live_server: str, verify_url: str) -> None:
    """What a phone opens after scanning the certificate's QR (our own server, same path)."""
    parts = urlsplit(verify_url)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}{parts.path}?{parts.query}")


def posts(page: Page) -> list[str]:
    """The paths the page posts to from now on, in order: a double click adds one, not two."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(urlsplit(r.url).path) if r.method == "POST" else None)
    return sent


def enter_through(page: Page, typed: dict[str, str]) -> None:
    """At a lab form, keyboard only: type each reading into its field in page order and press
    Enter (a balance or scanner ends its reading so): the focus moves on, filled or not; Enter
    in the last field sends the form. A choice is picked in its focused list."""
    fields = page.locator("form.measure input:not([type=hidden]), form.measure select")
    names = [fields.nth(i).get_attribute("name") or "" for i in range(fields.count())]
    for index, name in enumerate(names):
        field = page.locator(f'[name="{name}"]')
        expect(field).to_be_focused()
        value = typed.get(name)
        if value:
            if field.evaluate("f => f.tagName") == "SELECT":
                field.select_option(value)
            else:
                page.keyboard.type(value)
        if index == len(names) - 1:
            break
        page.keyboard.press("Enter")
    page.keyboard.press("Enter")
