"""Issue 18: the admin decides a claim from its case file, confirms with a note, and the
outcome reaches the order, the listing, the item's timeline and the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from qc_app.audit import AuditEvent
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.claims.models import Claim
from qc_app.items.models import Item
from qc_app.items.services import hold_item
from qc_app.orders.models import Order
from qc_app.sqltypes import utcnow
from tests.claims_support import Sold, accept, file, sell
from tests.web.helpers import login, post_form

pytestmark = pytest.mark.usefixtures("cjk_font_path")
UPHOLD = {"decision": "uphold", "postage_yuan": "12.00"}


@pytest.fixture
def answered(flow: Any) -> tuple[Sold, str]:
    """A sold ring, claimed (¥12 postage) and accepted by merchant1: the platform decides."""
    sold = sell(flow)
    number = file(flow, sold).claim.number
    accept(flow, number)
    return sold, number


def signed_in(app: Flask, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def stored(db: Any, number: str) -> Claim:
    db.rollback()
    return db.exec(select(Claim).where(Claim.number == number)).one()


def test_the_case_file_shows_every_fact_to_decide(
    app: Flask, db: Any, answered: tuple[Sold, str]
) -> None:
    sold, number = answered
    page = signed_in(app, "admin1").get(f"/claims/{number}").get_data(as_text=True)
    order = db.get(Order, sold.order.id, populate_existing=True)
    facts = [
        'data-testid="case-file"',
        order.order_no,
        "¥3,000.00",  # paid
        "在 90 天保障期内",
        order.seal_no,
        sold.item.code,
        sold.number,
        "签名验证通过",
        "5.03 g",  # intake, lab and packing masses
        'data-stage="lab"',
        "足金",
        "戒指在别家检测为镀金",
        "消费者证据 1",
        "退还实付款 + 10 × 实付款 + 邮费",
        'id="payout-preview">¥33,012.00',
    ]
    assert [f for f in facts if f not in page] == []
    assert page.count("5.03 g") >= 3


def test_merchants_see_their_claim_not_the_case_file_and_no_decision(
    app: Flask, answered: tuple[Sold, str]
) -> None:
    _, number = answered
    own = signed_in(app, "merchant1")
    page = own.get(f"/claims/{number}").get_data(as_text=True)
    assert 'data-testid="case-file"' not in page and "理赔成立…" not in page
    refused = post_form(own, f"/claims/{number}", f"/claims/{number}/decide", UPHOLD)
    assert refused.status_code == 403 and "无权" in refused.get_data(as_text=True)
    assert signed_in(app, "merchant2").get(f"/claims/{number}").status_code == 404
    assert number not in signed_in(app, "merchant2").get("/claims").get_data(as_text=True)


def test_nothing_is_decided_without_the_confirmation_and_its_note(
    app: Flask, db: Any, answered: tuple[Sold, str]
) -> None:
    sold, number = answered
    admin = signed_in(app, "admin1")
    detail = f"/claims/{number}"
    asked = post_form(admin, detail, f"{detail}/decide", UPHOLD)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="confirmation"' in text
    assert "¥33,012.00" in text and "证书将被吊销" in text
    no_note = post_form(admin, detail, f"{detail}/decide", {**UPHOLD, "confirm": "1", "note": " "})
    assert no_note.status_code == 422
    assert 'id="note-error"' in no_note.get_data(as_text=True)
    claim = stored(db, number)
    certificate = db.get(Certificate, sold.issued.certificate.id, populate_existing=True)
    assert (claim.state, certificate.status) == ("accepted", CertificateStatus.VALID)


def test_a_bad_postage_is_shown_next_to_the_field_with_what_was_typed(
    app: Flask, db: Any, answered: tuple[Sold, str]
) -> None:
    _, number = answered
    admin = signed_in(app, "admin1")
    answer = post_form(
        admin, f"/claims/{number}", f"/claims/{number}/decide", {**UPHOLD, "postage_yuan": "-5"}
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="postage_yuan-error"' in text and 'value="-5"' in text
    assert stored(db, number).state == "accepted"


def test_the_preview_is_what_is_paid_and_the_outcome_flows_everywhere(
    app: Flask, db: Any, answered: tuple[Sold, str]
) -> None:
    sold, number = answered
    admin = signed_in(app, "admin1")
    detail = f"/claims/{number}"
    page = admin.get(detail).get_data(as_text=True)
    preview = page.split('id="payout-preview">')[1].split("<")[0]
    post_form(admin, detail, f"{detail}/decide", {**UPHOLD, "confirm": "1", "note": "报告属实"})
    claim = stored(db, number)
    assert claim.state == "upheld" and preview == "¥33,012.00" and claim.payout_fen == 3_301_200
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "claim_uphold")).one()
    assert "报告属实" in event.data

    db.rollback()
    orders = admin.get("/admin/orders").get_data(as_text=True)
    assert "理赔成立，已赔付" in orders
    assert db.get(Order, sold.order.id, populate_existing=True).state == "compensated"
    merchant = signed_in(app, "merchant1")
    listing = merchant.get(f"/m/listings/{sold.item.listing_id}").get_data(as_text=True)
    assert 'data-testid="revoked"' in listing and "证书已吊销 1" in listing
    rate = listing.split('data-testid="pass-rate">')[1].split(" ")[0]
    assert rate != "100%"
    timeline = admin.get(f"/items/{sold.item.code}").get_data(as_text=True)
    assert "理赔成立" in timeline and "证书吊销" in timeline and "报告属实" in timeline
    dashboard = admin.get("/dashboard").get_data(as_text=True)
    upheld = dashboard.split('data-testid="claims-upheld"><b>')[1].split("<")[0]
    revoked = dashboard.split('data-testid="certificates-revoked"><b>')[1].split("<")[0]
    assert (upheld, revoked) == ("1", "1") and "¥33,012.00" in dashboard


def test_a_rejection_asks_for_the_ground_next_to_it_then_confirms(
    app: Flask, db: Any, answered: tuple[Sold, str]
) -> None:
    sold, number = answered
    admin = signed_in(app, "admin1")
    detail = f"/claims/{number}"
    missing = post_form(admin, detail, f"{detail}/decide", {"decision": "reject"})
    assert missing.status_code == 422 and 'id="ground-error"' in missing.get_data(as_text=True)
    rejected = {"decision": "reject", "ground": "item_swapped"}
    asked = post_form(admin, detail, f"{detail}/decide", rejected).get_data(as_text=True)
    assert "物品已被调换" in asked and stored(db, number).state == "accepted"
    post_form(admin, detail, f"{detail}/decide", {**rejected, "confirm": "1", "note": "封签不符"})
    assert stored(db, number).state == "rejected"
    assert db.get(Order, sold.order.id, populate_existing=True).state == "delivered"


def test_revoking_a_certificate_confirms_and_takes_the_reason(
    app: Flask, db: Any, flow: Any
) -> None:
    _, issued = flow.certified()
    admin = signed_in(app, "admin1")
    path = f"/admin/certificates/{issued.certificate.number}/revoke"
    asked = post_form(admin, "/admin/certificates", path, {})
    assert asked.status_code == 200 and "确认吊销" in asked.get_data(as_text=True)
    db.rollback()
    assert (
        db.get(Certificate, issued.certificate.id, populate_existing=True).status
        == CertificateStatus.VALID
    )
    done = post_form(admin, "/admin/certificates", path, {"confirm": "1", "note": "照片与实物不符"})
    assert done.status_code == 302, done.get_data(as_text=True)
    db.rollback()
    revoked = db.get(Certificate, issued.certificate.id, populate_existing=True)
    assert (revoked.status, revoked.revoke_reason) == (CertificateStatus.REVOKED, "照片与实物不符")


def test_releasing_a_hold_confirms_and_its_note_is_on_the_timeline(
    app: Flask, db: Any, flow: Any
) -> None:
    item = flow.declare()
    flow.receive(item)
    hold_item(
        session=db, actor=flow.world["inspector1"], code=item.code, reason="胶带破损", now=utcnow()
    )
    inspector = signed_in(app, "inspector1")
    page = f"/items/{item.code}"
    asked = post_form(inspector, page, f"{page}/release", {})
    assert asked.status_code == 200 and "胶带破损" in asked.get_data(as_text=True)
    db.rollback()
    assert db.get(Item, item.id, populate_existing=True).state == "on_hold"
    post_form(inspector, page, f"{page}/release", {"confirm": "1", "note": "复核无误，原包装完好"})
    db.rollback()
    assert db.get(Item, item.id, populate_existing=True).state == "received"
    assert "复核无误，原包装完好" in inspector.get(page).get_data(as_text=True)


def test_buttons_are_offered_only_to_who_may_press_them(
    app: Flask, answered: tuple[Sold, str]
) -> None:
    _, number = answered
    admin = signed_in(app, "admin1").get(f"/claims/{number}").get_data(as_text=True)
    assert "理赔成立…" in admin and "驳回理赔…" in admin and "认可理赔" not in admin
    merchant = signed_in(app, "merchant1").get(f"/claims/{number}").get_data(as_text=True)
    assert "理赔成立…" not in merchant and "认可理赔" not in merchant  # already answered
