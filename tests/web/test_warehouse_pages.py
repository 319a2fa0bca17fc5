"""The warehouse floor through the pages and the API: scanner intake, packing, the dashboard,
the order import, and who may open what."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from qc_app.warehouse.models import Alarm
from tests.conftest import NO_PHOTO, Flow, World, jpeg_bytes, other_views
from tests.web.helpers import TOKEN, login

ONCE = re.compile(r'name="once" value="([^"]+)"')


def inspector(app: Any) -> Any:
    client = app.test_client()
    login(client, "inspector1")
    return client


def form_tokens(client: Any, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": TOKEN.search(page).group(1), "once": ONCE.search(page).group(1)}


def count(db: Any, action: str, code: str | None = None) -> int:
    db.rollback()
    query = select(func.count()).where(AuditEvent.action == action)
    if code:
        query = query.where(AuditEvent.entity_id == code)
    return int(db.exec(query).one())


def consignment(flow: Flow, n: int = 2) -> tuple[str, list[str]]:
    created = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": flow.world.listing_gold.id, "mass_g": "5.02"}] * n,
        now=utcnow(),
    )
    return created.code, [i.code for i in consignment_items(session=flow.db, consignment=created)]


# -- intake -----------------------------------------------------------------------------------


def test_scanner_intake_of_a_consignment(app: Any, db: Any, flow: Flow) -> None:
    code, items = consignment(flow)
    client = inspector(app)
    opened = client.get(f"/intake?code={code.lower()}")
    assert opened.headers["Location"].endswith(f"/intake/c/{code}")
    page = client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert items[0] in page and items[1] in page

    scanned = client.post(
        f"/intake/c/{code}/scan",
        data={**form_tokens(client, f"/intake/c/{code}"), "item_code": items[0]},
    )
    weigh_url = scanned.headers["Location"]
    assert f"/intake/{items[0]}" in weigh_url and f"c={code}" in weigh_url
    tokens = form_tokens(client, weigh_url)
    form = {**tokens, "mass_g": "5.03", "c": code}
    photo = jpeg_bytes()
    first = client.post(
        f"/intake/{items[0]}",
        data={**form, "photo": (io.BytesIO(photo), "cam.jpg"), **other_views()},
        content_type="multipart/form-data",
    )
    assert first.headers["Location"].endswith(f"/intake/c/{code}")
    panel = client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert 'class="flash success"' in panel and f"已收货 {items[0]}" in panel
    assert 'data-result="success"' in panel

    # The same form sent again (a double Enter that got through): one record, same answer.
    again = client.post(
        f"/intake/{items[0]}",
        data={**form, "photo": (io.BytesIO(photo), "cam.jpg"), **other_views()},
        content_type="multipart/form-data",
    )
    assert again.status_code == 302
    assert f"已收货 {items[0]}" in client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert count(db, "receive", items[0]) == 1

    # Scanning the received label again: "already received", amber, no record.
    client.post(
        f"/intake/c/{code}/scan",
        data={**form_tokens(client, f"/intake/c/{code}"), "item_code": items[0]},
    )
    panel = client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert 'class="flash warning"' in panel and "已收货" in panel

    # Done with the parcel: the second item is missing and goes on hold.
    client.post(f"/intake/c/{code}/close", data={"csrf_token": tokens["csrf_token"]})
    panel = client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert "缺失 1 件" in panel and 'data-result="error"' in panel
    assert count(db, "hold", items[1]) == 1


def test_extra_item_in_the_parcel_is_shown_red_and_held(app: Any, db: Any, flow: Flow) -> None:
    code, _ = consignment(flow, 1)
    stranger = flow.declare()
    client = inspector(app)
    client.post(
        f"/intake/c/{code}/scan",
        data={**form_tokens(client, f"/intake/c/{code}"), "item_code": stranger.code},
    )
    panel = client.get(f"/intake/c/{code}").get_data(as_text=True)
    assert 'class="flash error"' in panel and "多余物品" in panel
    assert count(db, "hold", stranger.code) == 1


def test_short_mass_at_intake_is_a_red_panel_and_a_hold(app: Any, db: Any, flow: Flow) -> None:
    item = flow.declare(mass_g="5.02")
    client = inspector(app)
    client.post(
        f"/intake/{item.code}",
        data={**form_tokens(client, f"/intake/{item.code}"), "mass_g": "4.50", **NO_PHOTO},
    )
    page = client.get("/intake").get_data(as_text=True)
    assert 'class="flash error"' in page and "质量不符" in page


def test_an_invalid_photo_is_refused_and_nothing_is_received(app: Any, db: Any, flow: Flow) -> None:
    item = flow.declare()
    client = inspector(app)
    url = f"/intake/{item.code}"
    response = client.post(
        url,
        data={
            **form_tokens(client, url),
            "mass_g": "5.03",
            "photo": (io.BytesIO(b"<svg onload=alert(1)>"), "x.jpg"),
        },
        content_type="multipart/form-data",
        headers={"Referer": f"http://localhost{url}"},
    )
    # The form comes back with the problem under the photo and the mass as typed.
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="photo-error"' in page and "JPEG" in page and 'value="5.03"' in page
    assert count(db, "receive", item.code) == 0


# -- packing ----------------------------------------------------------------------------------


def packing_form(client: Any, **fields: str) -> Any:
    return client.post(
        "/packing",
        data={**form_tokens(client, "/packing"), **fields},
        headers={"Referer": "http://localhost/packing"},
    )


def an_order(flow: Flow, waybill: str = "SF1") -> None:
    create_order(
        session=flow.db,
        actor=flow.world["admin1"],
        order_no=f"DY-{waybill}",
        listing_id=flow.world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no=waybill,
        now=utcnow(),
    )


def test_mass_drift_at_packing_is_an_alarm_on_dashboard_and_timeline(
    app: Any, db: Any, flow: Flow, cjk_font_path: Any
) -> None:
    item, issued = flow.certified()
    an_order(flow)
    client = inspector(app)
    packing_form(
        client,
        waybill_no="SF1",
        item_code=item.code,
        certificate=issued.verify_url,
        seal_no="SEAL-9",
        mass_g="4.10",
    )
    page = client.get("/packing").get_data(as_text=True)
    assert 'class="flash error"' in page and "质量漂移" in page

    admin = app.test_client()
    login(admin, "admin1")
    dashboard = admin.get("/dashboard").get_data(as_text=True)
    assert "未解除的警报" in dashboard and item.code in dashboard
    timeline = admin.get(f"/items/{item.code}").get_data(as_text=True)
    assert "质量漂移（疑似调包）" in timeline and "packing@" in timeline and "4.10 g" in timeline

    db.rollback()
    alarm = db.exec(select(Alarm)).one()
    csrf_token = TOKEN.search(dashboard).group(1)
    cleared = admin.post(
        f"/dashboard/alarms/{alarm.id}/clear",
        data={"csrf_token": csrf_token, "note": "复称一致"},
    )
    assert cleared.status_code == 302
    assert count(db, "alarm_cleared", item.code) == 1 and count(db, "release", item.code) == 1


def test_merchant_timeline_hides_stations_and_alarms(
    app: Any, flow: Flow, cjk_font_path: Any
) -> None:
    item, issued = flow.certified()
    an_order(flow)
    drift = packing_form(  # a mass drift at packing raises an alarm with the station
        inspector(app),
        waybill_no="SF1",
        item_code=item.code,
        certificate=issued.verify_url,
        seal_no="SEAL-9",
        mass_g="4.10",
    )
    assert drift.status_code == 302
    merchant = app.test_client()
    login(merchant, "merchant1")
    page = merchant.get(f"/items/{item.code}").get_data(as_text=True)
    assert "收货" in page and "工位" not in page and "警报" not in page
    assert "alarm_" not in page and "packing@" not in page


# -- admin: orders, dashboard -----------------------------------------------------------------


def test_csv_import_page_lists_the_bad_rows(app: Any, world: World) -> None:
    admin = app.test_client()
    login(admin, "admin1")
    page = admin.get("/admin/orders").get_data(as_text=True)
    data = (
        f"order_no,listing_id,price_paid_fen,waybill_no\nA-1,{world.listing_gold.id},100,W1\n"
        "A-2,x,100,W2\n"
    ).encode()
    response = admin.post(
        "/admin/orders/import",
        data={"csrf_token": TOKEN.search(page).group(1), "file": (io.BytesIO(data), "o.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "导入失败" in body and "<td>3</td>" in body and "A-1" not in body


def test_dashboard_in_english_and_its_csv(app: Any, flow: Flow) -> None:
    flow.receive(flow.declare())
    admin = app.test_client()
    login(admin, "admin1")
    page = admin.get("/dashboard?lang=en").get_data(as_text=True)
    assert "QC warehouse dashboard" in page and "<svg" in page and "Items by state" in page
    assert "<b>0</b><span>Claims</span>" in page
    exported = admin.get("/dashboard.csv")
    assert exported.mimetype == "text/csv"
    assert "items_by_state,received,1" in exported.get_data(as_text=True)


# -- who may open what ------------------------------------------------------------------------

WAREHOUSE_GETS = ["/intake", "/intake/c/SJ0000000", "/packing", "/dashboard"]
ADMIN_ONLY = ["/admin/orders", "/dashboard.csv"]


@pytest.mark.parametrize("page", WAREHOUSE_GETS + ADMIN_ONLY)
def test_merchants_never_see_warehouse_pages(app: Any, world: World, page: str) -> None:
    merchant = app.test_client()
    login(merchant, "merchant1")
    assert merchant.get(page).status_code == 403


@pytest.mark.parametrize("page", WAREHOUSE_GETS + ADMIN_ONLY)
def test_anonymous_visitors_go_to_login(app: Any, page: str) -> None:
    response = app.test_client().get(page)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("page", ADMIN_ONLY)
def test_inspectors_cannot_open_admin_pages(app: Any, world: World, page: str) -> None:
    assert inspector(app).get(page).status_code == 403


@pytest.mark.parametrize(
    "action", ["/intake/c/SJ0000000/scan", "/intake/c/SJ0000000/close", "/packing"]
)
def test_warehouse_posts_need_the_csrf_token(app: Any, world: World, action: str) -> None:
    assert inspector(app).post(action, data={"item_code": "X"}).status_code == 400


def test_merchant_cannot_clear_alarms_or_import(app: Any, world: World) -> None:
    merchant = app.test_client()
    login(merchant, "merchant1")
    page = merchant.get("/m/listings").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    assert merchant.post("/dashboard/alarms/1/clear", data={"csrf_token": token}).status_code == 403
    assert merchant.post("/admin/orders/import", data={"csrf_token": token}).status_code == 403


# -- API --------------------------------------------------------------------------------------


def test_api_receive_with_an_idempotency_key_replays(
    client: Any, db: Any, flow: Flow, token: Any
) -> None:
    item = flow.declare()
    headers = {**token("inspector1"), "Idempotency-Key": "scanner-app-42"}
    url = f"/api/v1/items/{item.code}/receive"
    first = client.post(url, json={"mass_g": "5.03", **NO_PHOTO}, headers=headers)
    second = client.post(url, json={"mass_g": "5.03", **NO_PHOTO}, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.get_json() == second.get_json()
    assert count(db, "receive", item.code) == 1
    other = client.post(
        url, json={"mass_g": "5.03", **NO_PHOTO}, headers={**headers, "Idempotency-Key": "another"}
    )
    assert other.status_code == 409
    reused = client.post(
        f"/api/v1/items/{flow.declare().code}/receive", json={"mass_g": "5.03"}, headers=headers
    )
    assert reused.status_code == 422


def test_api_order_binding_and_lookup(
    client: Any, flow: Flow, token: Any, cjk_font_path: Any
) -> None:
    item, issued = flow.certified()
    created = client.post(
        "/api/v1/orders",
        json={
            "order_no": "DY-API",
            "listing_id": flow.world.listing_gold.id,
            "price_paid_fen": 328000,
            "waybill_no": "sf-api",
            "item_code": item.code,
        },
        headers=token("admin1"),
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["item_code"] == item.code
    assert client.get("/api/v1/orders/DY-API", headers=token("merchant1")).status_code == 200
    assert client.get("/api/v1/orders/DY-API", headers=token("merchant2")).status_code == 404

    drift = client.post(
        "/api/v1/packing",
        json={
            "waybill_no": "SF-API",
            "item_code": item.code,
            "certificate": issued.verify_url,
            "seal_no": "S-1",
            "mass_g": 6.2,
        },
        headers=token("inspector1"),
    )
    assert drift.status_code == 409 and drift.get_json()["error"]["code"] == "mass_drift"
    looked_up = client.get("/api/v1/orders/DY-API", headers=token("admin1")).get_json()
    assert looked_up["state"] == "open"


def test_merchant_declares_an_order_driven_item_on_the_page(app: Any, db: Any, flow: Flow) -> None:
    an_order(flow, "SFM")
    merchant = app.test_client()
    login(merchant, "merchant1")
    page = merchant.get("/m/consignments").get_data(as_text=True)
    response = merchant.post(
        "/m/consignments/new",
        data={
            "csrf_token": TOKEN.search(page).group(1),
            "rows-1-listing_id": str(flow.world.listing_gold.id),
            "rows-1-mass_g": "5.02",
            "rows-1-order_no": "DY-SFM",
        },
    )
    assert response.status_code == 302
    db.rollback()
    from qc_app.items.models import Item
    from qc_app.orders.models import Order

    order_id = db.exec(select(Order.id).where(Order.order_no == "DY-SFM")).one()
    assert db.exec(select(func.count()).where(Item.order_id == order_id)).one() == 1
