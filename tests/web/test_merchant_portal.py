"""The merchant portal through the pages and the API: rights centre, listings, CSV, labels."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from qc_app import storage
from qc_app.intake.models import Consignment
from qc_app.items.models import Item, Photo
from qc_app.listings.models import Listing
from qc_app.merchants.models import Membership
from qc_app.merchants.programme import agreement_sha256
from tests.claims_support import pdf_bytes
from tests.conftest import HTML_PAGE, SVG_IMAGE, jpeg_html_polyglot, stored_files
from tests.web.helpers import csrf, eligible, login, post_form


def test_rights_centre_join_label_and_leave(app, db, world):
    web = app.test_client()
    login(web, "merchant1")
    page = web.get("/m/rights").get_data(as_text=True)
    assert "未开通" in page and "disabled" in page  # licence "L-A" fails the check
    eligible(db, world.merchant_a)
    page = web.get("/m/rights").get_data(as_text=True)
    assert agreement_sha256() in page
    response = post_form(
        web,
        "/m/rights",
        "/m/rights/join",
        {"accept": "yes", "agreement_sha256": agreement_sha256()},
    )
    assert response.status_code == 302
    db.rollback()
    assert db.exec(select(Membership)).one().signed_by_id == world["merchant1"].id
    listing_url = f"/m/listings/{world.listing_gold.id}"
    post_form(web, listing_url, f"{listing_url}/labels", {"authentic": "yes", "guarantee": "yes"})
    page = web.get(listing_url).get_data(as_text=True)
    assert page.count('class="badge badge-ten"') >= 3  # listing, live room and order previews
    post_form(web, "/m/rights", "/m/rights/leave", {"reason": "test"})
    db.rollback()
    assert not db.get(Listing, world.listing_gold.id).label_guarantee


def test_new_listing_with_an_origin_claim_shows_the_warning(app, db, world):
    web = app.test_client()
    login(web, "merchant1")
    response = post_form(
        web,
        "/m/listings",
        "/m/listings",
        {
            "title": "缅甸冰种翡翠手镯",
            "brand": "",
            "material_code": "JADEITE",
            "price_yuan": "1999",
        },
    )
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="title-warnings"' in page
    assert "缅甸" in page and "冰种" in page and "不在保障范围" in page


def test_csv_upload_with_a_bad_row_lists_it_and_saves_nothing(app, db, world):
    web = app.test_client()
    login(web, "merchant1")
    gold = world.listing_gold.id
    body = f"listing_id,mass_g\n{gold},5.02\n{gold},abc\n{world.listing_b.id},1\n".encode()
    response = web.post(
        "/m/consignments/import",
        data={"csrf_token": csrf(web, "/m/consignments"), "file": (io.BytesIO(body), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<td class="mono">3</td>' in page and '<td class="mono">4</td>' in page
    db.rollback()
    assert db.exec(select(Item)).all() == []


def test_csv_upload_good_file_redirects_to_the_consignment(app, db, world):
    web = app.test_client()
    login(web, "merchant1")
    body = f"listing_id,mass_g\n{world.listing_gold.id},5.02\n".encode()
    response = web.post(
        "/m/consignments/import",
        data={"csrf_token": csrf(web, "/m/consignments"), "file": (io.BytesIO(body), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.rollback()
    code = db.exec(select(Consignment)).one().code
    assert response.headers["Location"].endswith(code)


def test_admin_marks_legal_rep_verified(app, db, world):
    web = app.test_client()
    login(web, "admin1")
    post_form(
        web,
        "/admin/merchants",
        f"/admin/merchants/{world.merchant_b.id}",
        {"legal_rep_verified": "yes", "serious_violations": "0", "categories": ["jadeite"]},
    )
    db.rollback()
    db.refresh(world.merchant_b)
    assert world.merchant_b.legal_rep_verified and world.merchant_b.categories == "jadeite"


# -- API ---------------------------------------------------------------------------------------


def test_api_listings_labels_and_warnings(client, db, world, token):
    auth = token("merchant1")
    listed = client.get("/api/v1/listings", headers=auth).get_json()["listings"]
    assert [x["id"] for x in listed] == [world.listing_gold.id]
    refused = client.post(
        f"/api/v1/listings/{world.listing_gold.id}/labels", headers=auth, json={"authentic": True}
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_in_programme"
    eligible(db, world.merchant_a)
    from qc_app.merchants.services import join_programme
    from qc_app.sqltypes import utcnow

    join_programme(
        session=db,
        actor=world["merchant1"],
        agreement_sha256=agreement_sha256(),
        accepted=True,
        now=utcnow(),
    )
    ok = client.post(
        f"/api/v1/listings/{world.listing_gold.id}/labels",
        headers=auth,
        json={"authentic": True, "guarantee": True},
    )
    assert ok.status_code == 200 and ok.get_json()["labels"] == {
        "authentic": True,
        "guarantee": True,
    }
    bad = client.post(
        f"/api/v1/listings/{world.listing_gold.id}/labels", headers=auth, json={"authentic": "yes"}
    )
    assert bad.status_code == 400
    created = client.post(
        "/api/v1/listings",
        headers=auth,
        json={"title": "足金项链", "material_code": "AU750", "price_fen": 100},
    ).get_json()
    got = client.get(f"/api/v1/listings/{created['id']}", headers=auth).get_json()
    assert [w["kind"] for w in got["title_warnings"]] == ["fineness"]


def test_api_csv_import_reports_rows(client, world, token):
    auth = {**token("merchant1"), "Content-Type": "text/csv"}
    gold = world.listing_gold.id
    bad = client.post(
        "/api/v1/consignments/import", headers=auth, data=f"listing_id,mass_g\n{gold},x\n"
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["rows"][0]["line"] == 2
    good = client.post(
        "/api/v1/consignments/import", headers=auth, data=f"listing_id,mass_g\n{gold},1.5\n"
    )
    assert good.status_code == 201
    code = good.get_json()["code"]
    got = client.get(f"/api/v1/consignments/{code}", headers=auth).get_json()
    assert got["items"][0]["declared_mass_g"] == "1.50"


@pytest.mark.usefixtures("cjk_font_path")
def test_api_item_labels(client, flow, token):
    item = flow.declare()
    auth = token("merchant1")
    pdf = client.get(f"/api/v1/items/{item.code}/label.pdf?size=50x30", headers=auth)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    zpl = client.get(f"/api/v1/items/{item.code}/label.zpl", headers=auth)
    assert zpl.status_code == 200 and b"^CI28" in zpl.data
    assert (
        client.get(f"/api/v1/items/{item.code}/label.zpl?size=a4", headers=auth).status_code == 422
    )
    assert (
        client.get(f"/api/v1/items/{item.code}/label.pdf?size=1x1", headers=auth).status_code == 422
    )


def test_consignment_form_with_material_price_and_photo(app, db, world):
    from qc_app.items.models import Photo
    from tests.conftest import jpeg_bytes

    web = app.test_client()
    login(web, "merchant1")
    response = web.post(
        "/m/consignments/new",
        data={
            "csrf_token": csrf(web, "/m/consignments"),
            "rows-1-listing_id": str(world.listing_gold.id),
            "rows-1-declared_material": "AU750",
            "rows-1-mass_g": "3.21",
            "rows-1-price_yuan": "1999.50",
            "rows-1-photo": (io.BytesIO(jpeg_bytes(exif_gps=True)), "ring.jpg"),
            "rows-2-listing_id": str(world.listing_gold.id),
            "rows-2-mass_g": "5.00",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.rollback()
    first, second = db.exec(select(Item).order_by(Item.id)).all()
    assert (first.declared_material, first.declared_mass_cg, first.price_fen) == (
        "AU750",
        321,
        199950,
    )
    assert (second.declared_material, second.price_fen) == ("AU990", world.listing_gold.price_fen)
    photo = db.exec(select(Photo)).one()
    assert photo.item_id == first.id and photo.kind == "merchant"
    page = web.get(f"/items/{first.code}")
    assert photo.sha256 in page.get_data(as_text=True)
    assert web.get(f"/items/{first.code}/photos/{photo.sha256}.jpg").status_code == 200


def post_consignment_with_photo(web, world, photo: bytes, filename: str = "x.jpg"):
    return web.post(
        "/m/consignments/new",
        data={
            "csrf_token": csrf(web, "/m/consignments"),
            "rows-1-listing_id": str(world.listing_gold.id),
            "rows-1-mass_g": "3.21",
            "rows-1-photo": (io.BytesIO(photo), filename),
        },
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/m/consignments"},
    )


@pytest.mark.parametrize(
    "photo", [HTML_PAGE, SVG_IMAGE, pdf_bytes()], ids=["html-as-jpg", "svg-as-jpg", "pdf-as-jpg"]
)
def test_consignment_form_refuses_a_bad_photo_and_saves_nothing(app, db, world, photo):
    web = app.test_client()
    login(web, "merchant1")
    refused = post_consignment_with_photo(web, world, photo)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="rows-1-photo-error"' in page and "JPEG" in page
    db.rollback()
    assert db.exec(select(Item)).all() == []
    assert stored_files(app).list("photos") == []


def test_consignment_form_stores_a_polyglot_photo_re_encoded(app, db, world):
    web = app.test_client()
    login(web, "merchant1")
    assert post_consignment_with_photo(web, world, jpeg_html_polyglot()).status_code == 302
    db.rollback()
    photo = db.exec(select(Photo)).one()
    kept = storage.load(stored_files(app), "photos", photo.sha256, ".jpg")
    assert kept.startswith(b"\xff\xd8") and b"<script" not in kept


@pytest.mark.usefixtures("cjk_font_path")
def test_listing_page_shows_items_certificates_and_pass_rate(app, flow, world):
    _, issued = flow.certified()
    flow.declare()  # not judged yet: does not count
    web = app.test_client()
    login(web, "merchant1")
    page = web.get(f"/m/listings/{world.listing_gold.id}").get_data(as_text=True)
    assert issued.certificate.number in page
    assert 'data-testid="pass-rate">100%' in page


def test_failed_item_shows_reasons_and_the_return_waybill(app, db, flow, world):
    from qc_app.items.services import return_shipped
    from qc_app.sqltypes import utcnow

    item = flow.declare()
    flow.receive(item)
    flow.approve(flow.inspect(item, fineness="750.0"))
    consignment = db.get(Consignment, item.consignment_id)
    web = app.test_client()
    login(web, "merchant1")
    page = web.get(f"/m/consignments/{consignment.code}").get_data(as_text=True)
    assert "fail-reasons" in page and "等待仓库寄回" in page
    return_shipped(
        session=db,
        actor=world["inspector1"],
        code=item.code,
        waybill_no="SF1234567890",
        now=utcnow(),
    )
    page = web.get(f"/m/consignments/{consignment.code}").get_data(as_text=True)
    assert "SF1234567890" in page


@pytest.mark.usefixtures("cjk_font_path")
def test_cli_prints_labels_for_the_owner_only(app, db, flow):
    item = flow.declare()
    consignment = db.get(Consignment, item.consignment_id)
    runner = app.test_cli_runner()
    zpl = runner.invoke(args=["qc", "labels", item.code, "--as", "merchant1", "--format", "zpl"])
    assert zpl.exit_code == 0 and "^CI28" in zpl.output
    pdf = runner.invoke(
        args=["qc", "labels", consignment.code, "--as", "inspector1", "--size", "a4"]
    )
    assert pdf.exit_code == 0 and pdf.stdout_bytes.startswith(b"%PDF")
    other = runner.invoke(args=["qc", "labels", item.code, "--as", "merchant2"])
    assert other.exit_code == 1 and "not found" in other.output


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/listings/{}"),
        ("post", "/api/v1/listings/{}/labels"),
    ],
)
def test_api_listing_id_beyond_the_database_range_is_404(client, world, token, method, url):
    # get_listing trusts its id: every caller's comes through a DatabaseInt-bounded route.
    from qc_app.db import MAX_DB_INT

    auth = token("merchant1")
    response = getattr(client, method)(url.format(MAX_DB_INT + 1), headers=auth, json={})
    assert response.status_code == 404


def test_listing_page_id_beyond_the_database_range_is_404(app, world):
    from qc_app.db import MAX_DB_INT

    web = app.test_client()
    login(web, "merchant1")
    assert web.get(f"/m/listings/{MAX_DB_INT + 1}").status_code == 404


def test_csv_template_names_the_import_columns_with_prices_in_yuan(app, world):
    web = app.test_client()
    login(web, "merchant1")
    response = web.get("/m/consignments/template.csv")
    assert response.get_data(as_text=True) == (
        "\ufefflisting_id,declared_material,mass_g,price_yuan,description,article_type,components\n"
    )
