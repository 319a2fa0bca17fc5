"""The whole path of one item through the web pages, as each role would click it."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from qc_app.audit import sequence, verify_chain
from qc_app.items.models import Item
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.conftest import jpeg_bytes, other_views
from tests.web.helpers import login, post_form, record_by_web

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def fresh(app: Any) -> Any:
    return app.test_client()


def declare_by_web(app: Any, world: Any, mass: str = "5.02") -> str:
    merchant = fresh(app)
    login(merchant, "merchant1")
    response = post_form(
        merchant,
        "/m/consignments",
        "/m/consignments/new",
        {
            "rows-1-listing_id": str(world.listing_gold.id),
            "rows-1-mass_g": mass,
            "rows-1-description": "足金戒指",
        },
    )
    assert response.status_code == 302
    page = merchant.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r"(QC[0-9A-Z]{10})", page).group(1)


def receive_by_web(app: Any, code: str) -> None:
    inspector = fresh(app)
    login(inspector, "inspector1")
    scanned = inspector.get(f"/intake?code={code}")
    assert scanned.status_code == 302 and scanned.headers["Location"].endswith(f"/intake/{code}")
    response = post_form(
        inspector,
        f"/intake/{code}",
        f"/intake/{code}",
        {"mass_g": "5.03", "photo": (io.BytesIO(jpeg_bytes()), "ring.jpg"), **other_views()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def inspect_by_web(app: Any, code: str, fineness: str) -> None:
    analyst = fresh(app)
    login(analyst, "analyst1")
    response = record_by_web(
        analyst, code, {"mass_g": "5.03", "fineness_permille": fineness, "metal": "Au"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def approve_by_web(app: Any, db: Any, code: str) -> None:
    reviewer = fresh(app)
    login(reviewer, "reviewer1")
    queue = reviewer.get("/review").get_data(as_text=True)
    inspection_id = re.search(r'href="/review/(\d+)"', queue).group(1)
    response = post_form(
        reviewer, f"/review/{inspection_id}", f"/review/{inspection_id}/approve", {}
    )
    assert response.status_code == 302


def item_state(db: Any, code: str) -> str:
    db.rollback()  # end the read snapshot so the pages' commits are visible
    return db.exec(Item.__table__.select().where(Item.code == code)).first().state


def test_pass_path_from_declaration_to_shipping(app, db, world):
    code = declare_by_web(app, world)
    receive_by_web(app, code)
    inspect_by_web(app, code, "999.2")
    approve_by_web(app, db, code)
    assert item_state(db, code) == "approved"

    inspector = fresh(app)
    login(inspector, "inspector1")
    asked = post_form(inspector, "/certify", f"/certify/{code}", {})
    assert asked.status_code == 302  # to the job's page (the queue runs in the request here)
    issued = inspector.get(asked.headers["Location"])
    assert issued.status_code == 200
    page = issued.get_data(as_text=True)
    number = re.search(r"(GTC-[0-9A-Z]{13})", page).group(1)
    pdf = inspector.get(f"/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"

    # The PDF reads back with the measured facts, and its QR leads to a "genuine" page.
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert number in text and "足金" in text and "5.03" in text
    bitmap = pypdfium2.PdfDocument(pdf.data)[0].render(scale=200 / 72).to_pil()
    codes = {str(r.format): r.text for r in zxingcpp.read_barcodes(bitmap)}
    qr = next(t for f, t in codes.items() if "QR" in f)
    assert qr.startswith("http://qc.test/v/" + number)
    consumer = fresh(app)
    parts = urlsplit(qr)
    verified = consumer.get(f"{parts.path}?{parts.query}")
    assert verified.status_code == 200
    body = verified.get_data(as_text=True)
    assert "真实有效" in body and "5.03 g" in body and "测试检测中心" in body
    assert (
        consumer.get(
            re.search(r'class="photo"[^>]* src="(/v/[^"]+)"', body).group(1).replace("&amp;", "&")
        ).mimetype
        == "image/jpeg"
    )

    # Packed against an order and shipped at the packing station.
    create_order(
        session=db,
        actor=world["admin1"],
        order_no="DY1",
        listing_id=world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no="SF777",
        now=utcnow(),
    )
    packed = post_form(
        inspector,
        "/packing",
        "/packing",
        {
            "waybill_no": "SF777",
            "item_code": code,
            "certificate": qr,
            "seal_no": "SEAL-001",
            "mass_g": "5.03",
        },
    )
    assert packed.status_code == 302
    shipped = post_form(inspector, "/packing", "/packing/SF777/ship", {})
    assert shipped.status_code == 302
    assert item_state(db, code) == "shipped"
    sequence(db)
    report = verify_chain(db)
    assert report.ok and report.events > 10


def test_failing_path_names_the_metal_and_returns_it(app, db, world):
    code = declare_by_web(app, world)
    receive_by_web(app, code)
    inspect_by_web(app, code, "750")
    reviewer = fresh(app)
    login(reviewer, "reviewer1")
    queue = reviewer.get("/review").get_data(as_text=True)
    inspection_id = re.search(r'href="/review/(\d+)"', queue).group(1)
    detail = reviewer.get(f"/review/{inspection_id}").get_data(as_text=True)
    assert "18K金" in detail and "低于足金" in detail
    post_form(reviewer, f"/review/{inspection_id}", f"/review/{inspection_id}/approve", {})
    assert item_state(db, code) == "return_to_merchant"

    inspector = fresh(app)
    login(inspector, "inspector1")
    refused = post_form(inspector, "/certify", f"/certify/{code}", {})
    assert refused.status_code == 409
    assert item_state(db, code) == "return_to_merchant"
    returned = post_form(inspector, "/returns", f"/returns/{code}", {"waybill_no": "SFBACK1"})
    assert returned.status_code == 302
    assert item_state(db, code) == "returned"

    merchant = fresh(app)
    login(merchant, "merchant1")
    timeline = merchant.get(f"/items/{code}").get_data(as_text=True)
    assert "审核通过（不合格）" in timeline and "退回商家" in timeline and "18K金" in timeline


def test_packing_refuses_a_certificate_of_another_item(app, db, world, flow):
    _, issued_first = flow.certified()
    second, _ = flow.certified()
    create_order(
        session=db,
        actor=world["admin1"],
        order_no="DY2",
        listing_id=world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no="SF888",
        now=utcnow(),
    )
    inspector = fresh(app)
    login(inspector, "inspector1")
    response = post_form(
        inspector,
        "/packing",
        "/packing",
        {
            "waybill_no": "SF888",
            "item_code": second.code,
            "certificate": issued_first.verify_url,
            "seal_no": "S1",
            "mass_g": "5.03",
        },
        headers={"Referer": "http://localhost/packing"},
    )
    assert response.status_code == 302
    page = inspector.get("/packing").get_data(as_text=True)
    assert "证书不属于该物品" in page
    assert item_state(db, second.code) == "certified"
