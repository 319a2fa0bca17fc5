"""The claim pages' decision buttons pressed in Chromium with the page's script running: what is
stored is the button that was pressed (its name and value reach the server), sent once."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.claims.models import Claim, RejectionGround
from qc_app.items.models import Item
from tests.browser.steps import log_in, posts
from tests.claims_support import accept, file, sell
from tests.conftest import Flow

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def open_claim(page: Page, live_server: str, number: str) -> None:
    page.goto(f"{live_server}/claims/{number}")
    expect(page.locator("html")).to_have_attribute("data-ready", "1")


def stored(db: Any, number: str) -> Claim:
    db.rollback()  # the pages wrote since the test session last read
    return db.exec(select(Claim).where(Claim.number == number)).one()


def claims_filed(flow: Flow, count: int) -> list[str]:
    return [file(flow, sell(flow)).claim.number for _ in range(count)]


def test_merchant_accepts_one_claim_and_disputes_another(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    accepted, disputed = claims_filed(flow, 2)
    log_in(page, live_server, "merchant1")
    sent = posts(page)

    open_claim(page, live_server, accepted)
    page.get_by_role("button", name="认可理赔").dblclick()
    expect(page.locator(".flash")).to_have_text("已提交答复")

    open_claim(page, live_server, disputed)
    page.fill("#note", "出货前已检测为足金，附检测报告")
    page.get_by_role("button", name="提出异议").dblclick()
    expect(page.locator(".flash")).to_have_text("已提交答复")

    assert (stored(db, accepted).state, stored(db, accepted).merchant_note) == ("accepted", None)
    assert stored(db, disputed).state == "disputed"
    assert stored(db, disputed).merchant_note == "出货前已检测为足金，附检测报告"
    assert sent == [f"/claims/{accepted}/answer", f"/claims/{disputed}/answer"]


def test_admin_upholds_rejects_on_each_ground_and_orders_a_reinspection(
    page: Page, live_server: str, flow: Flow, db: Any
) -> None:
    upheld, *rejected, reinspected = claims_filed(flow, 2 + len(RejectionGround))
    for number in (upheld, *rejected):
        accept(flow, number)
    log_in(page, live_server, "admin1")
    sent = posts(page)

    open_claim(page, live_server, upheld)
    page.get_by_role("button", name="理赔成立…").dblclick()
    page.fill("#note", "鉴定报告属实")
    page.locator("#confirm").dblclick()
    expect(page.locator(".flash")).to_have_text("已裁定")
    expect(page.locator("#payout")).to_have_text("¥33,012.00")  # 3,000 + 10 × 3,000 + 12

    for number, ground in zip(rejected, RejectionGround, strict=True):
        open_claim(page, live_server, number)
        page.select_option("#ground", ground.value)
        page.get_by_role("button", name="驳回理赔…").dblclick()
        page.fill("#note", "理由见案卷")
        page.locator("#confirm").dblclick()
        expect(page.locator(".flash")).to_have_text("已裁定")

    open_claim(page, live_server, reinspected)
    page.fill("#reinspect-note", "消费者寄回，送实验室复检")
    page.get_by_role("button", name="安排复检").dblclick()
    expect(page.locator(".flash")).to_have_text("已安排复检")

    claim = stored(db, upheld)
    assert (claim.state, claim.payout_fen) == ("upheld", 3_301_200)
    certificate = db.get(Certificate, claim.certificate_id)
    assert certificate.status == CertificateStatus.REVOKED
    assert [(stored(db, n).state, stored(db, n).rejection_ground) for n in rejected] == [
        ("rejected", ground.value) for ground in RejectionGround
    ]
    claim = stored(db, reinspected)
    assert (claim.state, claim.decision_note) == ("reinspection", "消费者寄回，送实验室复检")
    item = db.get(Item, db.get(Certificate, claim.certificate_id).item_id)
    assert item.state == "received"
    assert sent == [
        f"/claims/{upheld}/decide",
        f"/claims/{upheld}/decide",  # the confirmation, with its note
        *(f"/claims/{n}/decide" for n in rejected for _ in range(2)),
        f"/claims/{reinspected}/reinspect",
    ]
