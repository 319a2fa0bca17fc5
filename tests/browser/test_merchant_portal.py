"""A merchant in a browser: join the programme, list an item whose title promises an origin,
see the warning, switch the labels on and see them in the three previews."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from qc_app.db import write
from tests.browser.steps import log_in


def test_rights_centre_and_listing_flow(page: Page, live_server: str, db, world) -> None:
    with write(db):
        shop = world.merchant_a
        shop.licence_no, shop.legal_rep_verified, shop.categories = (
            "91440300MA5DEM0019",
            True,
            "jadeite",
        )
        db.add(shop)
    log_in(page, live_server, "merchant1")
    # Watched from here on: the merchant pages raise no script error and no CSP violation.
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Failed loads are checked by URL instead: the browser's own favicon probe may 404.
    page.on(
        "response",
        lambda r: problems.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(f"{live_server}/m/rights")
    expect(page.get_by_test_id("programme-status")).to_have_text("未开通")
    expect(page.locator("ul.checks li.no")).to_have_count(0)
    page.check("input[name=accept]")
    page.click("text=签署并开通")
    expect(page.get_by_test_id("programme-status")).to_have_text("已开通")

    page.goto(f"{live_server}/m/listings")
    page.fill("#title", "缅甸冰种翡翠平安扣")
    page.select_option("#material_code", "JADEITE")
    page.fill("#price_yuan", "2680")
    page.click("form[action='/m/listings'][method=post] button[type=submit]")
    warnings = page.get_by_test_id("title-warnings")
    expect(warnings).to_contain_text("缅甸")
    expect(warnings).to_contain_text("冰种")
    expect(page.locator(".badge")).to_have_count(0)

    page.check("input[name=authentic]")
    page.check("input[name=guarantee]")
    page.click("text=保存标签")
    for preview in ("preview-listing", "preview-live", "preview-order"):
        expect(page.get_by_test_id(preview).locator(".badge-auth")).to_have_text("鉴定验真")
        expect(page.get_by_test_id(preview).locator(".badge-ten")).to_have_text("假一赔十")
    assert problems == []
