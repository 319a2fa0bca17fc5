"""A certify-and-pack day (issue 18): at the warehouse terminal, scanner and keyboard only, a
certifier issues one certificate from the certify list (scan, Enter, Enter) and one by the
batch page; the packer packs both at the packing station (waybill, item, certificate QR, seal,
balance; the camera's packing photo beside the intake photos) and ships them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from qc_app.audit import AuditEvent
from qc_app.certificates.models import Certificate
from qc_app.certificates.signing import qr_path, verifier_from_jwks
from qc_app.items.models import Item
from qc_app.orders.models import Order
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.browser.steps import SHOTS, log_in
from tests.browser.test_warehouse_floor import scan
from tests.conftest import Flow

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"day-certify-pack-{name}.png"), full_page=True)


def certificate_of(db: Any, item: Item) -> Certificate:
    db.rollback()
    return db.exec(select(Certificate).where(Certificate.item_id == item.id)).one()


def test_a_certify_and_pack_day(page: Page, live_server: str, flow: Flow, db: Any) -> None:
    first, second = flow.approved(2)
    for number, item in enumerate((first, second), start=1):
        create_order(
            session=db,
            actor=flow.world["admin1"],
            order_no=f"DY-{number}",
            listing_id=flow.world.listing_gold.id,
            price_paid_fen=328000,
            waybill_no=f"SF{number}",
            item_code=item.code,
            now=utcnow(),
        )
    log_in(page, live_server, "inspector1")

    # 1. The certify list; the first item's label scanned into its search opens its issue step.
    page.goto(f"{live_server}/certify")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("table")).to_contain_text(first.code)
    shot(page, "1-certify-list")
    page.keyboard.type(first.code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/certify/{first.code}")
    expect(page.get_by_role("button", name="签发证书")).to_be_focused()
    shot(page, "2-issue-step")
    page.keyboard.press("Enter")
    expect(page.locator(".flash.success")).to_contain_text("证书已签发")
    expect(page.get_by_role("link", name="打开证书 PDF 打印")).to_be_focused()
    shot(page, "3-issued")

    # 2. The batch page: what is left, all ticked, 全部签发 focused.
    page.goto(f"{live_server}/certify/batch")
    expect(page.locator("table")).to_contain_text(second.code)
    expect(page.locator("table")).not_to_contain_text(first.code)
    expect(page.get_by_role("button", name="全部签发 (1)")).to_be_focused()
    shot(page, "4-batch")
    page.keyboard.press("Enter")
    expect(page.locator("#batch-state")).to_have_text("完成")
    expect(page.locator("a.mono")).to_have_count(1)
    shot(page, "5-batch-done")

    # Both certificates valid and signed: their payload verifies against the published keys.
    issued = [certificate_of(db, item) for item in (first, second)]
    verifier = verifier_from_jwks(page.request.get(f"{live_server}/.well-known/jwks.json").json())
    for item, certificate in zip((first, second), issued, strict=True):
        assert certificate.status == "valid"
        verifier.verify(
            certificate.payload.encode("utf-8"),
            certificate.signature,
            certificate.kid,
            at=certificate.issued_at,
        )
        assert json.loads(certificate.payload)["item"]["code"] == item.code

    # 3. The packing station: five scans each, the packing photo from the camera.
    page.goto(f"{live_server}/packing")
    expect(page.locator("#waybill_no")).to_be_focused()
    expect(page.locator("[data-camera]")).to_have_attribute("data-live", "1", timeout=10_000)
    for number, (item, certificate) in enumerate(zip((first, second), issued, strict=True), 1):
        qr = "http://qc.test" + qr_path(
            certificate.number, certificate.kid, certificate.url_signature
        )
        for code in (f"SF{number}", item.code, qr, f"SEAL-000{number}", "5.03"):
            scan(page, code)
        expect(page.locator(".flash")).to_have_class("flash success")
        expect(page.locator(".flash")).to_contain_text(f"已打包 DY-{number} · {item.code}")
        compare = page.locator("#compare figure img")
        expect(compare).to_have_count(4)
        for index in range(4):
            expect(compare.nth(index)).to_have_js_property("complete", True)
        shot(page, f"6-packed-{number}")
        expect(page.locator("#waybill_no")).to_be_focused()

    # 4. Ship both from the list of orders, keyboard only.
    for number in (1, 2):
        button = page.locator(f"form[action$='/packing/SF{number}/ship'] button")
        button.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".flash.success")).to_contain_text(f"DY-{number}")
    shot(page, "7-shipped")

    db.rollback()
    for number, item in enumerate((first, second), start=1):
        order = db.exec(select(Order).where(Order.order_no == f"DY-{number}")).one()
        assert (order.state, order.seal_no) == ("shipped", f"SEAL-000{number}")
        assert order.packed_mass_cg == 503
        assert db.get(Item, item.id).state == "shipped"
        actions = db.exec(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == item.code)
            .order_by(AuditEvent.id)
        ).all()
        assert actions[-3:] == ["issue_certificate", "pack", "ship"], actions
