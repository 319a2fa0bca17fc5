"""A refused form at a terminal, keyboard only (issue 18): the form comes back with what was
typed, the problem is announced (role=alert) and the focus is on the first invalid field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.steps import TERMINAL, log_in, shoot
from tests.conftest import World


@pytest.mark.browser
def test_a_blank_password_keeps_the_user_name_and_focuses_the_password(
    page: Page, live_server: str, world: World
) -> None:
    page.set_viewport_size(TERMINAL)
    page.goto(f"{live_server}/login")
    page.keyboard.type("admin1")
    page.keyboard.press("Tab")
    page.locator("#password").evaluate("f => f.removeAttribute('required')")
    page.keyboard.press("Enter")
    expect(page.locator("#password-error")).to_have_attribute("role", "alert")
    expect(page.locator("#username")).to_have_value("admin1")
    expect(page.locator("#password")).to_be_focused()
    shoot(page, "forms-login-refused.png")


@pytest.mark.browser
def test_a_refused_testing_body_keeps_its_fields_and_focuses_the_first_wrong_one(
    page: Page, live_server: str, world: World
) -> None:
    log_in(page, live_server, "admin1")
    page.goto(f"{live_server}/admin/testing-bodies/new")
    page.evaluate(
        "document.querySelectorAll('[required]').forEach(f => f.removeAttribute('required'))"
    )
    for value in ("NEWLAB", "新检测所", "New Lab", "CMA-NEW-1", "", "1"):
        page.keyboard.type(value)
        page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # 资质有效期自: left empty
    page.keyboard.press("Enter")  # 资质有效期至: empty
    for _ in range(page.locator('input[name="scope"]').count()):
        page.keyboard.press("Enter")  # no scope ticked; Enter on the last box sends the form
    expect(page.locator("#cert_prefix")).to_be_focused()
    expect(page.locator("#cert_prefix-error")).to_be_visible()
    expect(page.locator("#accredited_until-error")).to_be_visible()
    expect(page.locator("#scope-error")).to_be_visible()
    expect(page.locator("#name_zh")).to_have_value("新检测所")
    shoot(page, "forms-testing-body-refused.png")
