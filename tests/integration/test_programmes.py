"""A listing or an order names its guarantee programme (假一赔十 ×10, 安心购 退一赔三 ×3, …)
through the API and the merchant's pages, and the payout follows the order's programme."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from qc_app.claims import services as claims
from qc_app.db import write
from qc_app.listings.models import LabelPeriod, Listing
from qc_app.listings.services import set_programme
from qc_app.merchants.models import Membership
from qc_app.orders.models import Order
from qc_app.orders.services import deliver, pack, ship
from qc_app.programmes.models import Programme
from qc_app.sqltypes import utcnow
from tests.conftest import jpeg_bytes, stored_files
from tests.web.helpers import csrf, login, post_form


class Platform:
    """The merchant's and the platform's API calls these tests make, with their tokens."""

    def __init__(self, client: Any, token: Any) -> None:
        self.client, self.merchant, self.admin = client, token("merchant1"), token("admin1")

    def listing(self, programme: Any, price_fen: int = 328000) -> Any:
        body = {
            "title": "足金戒指",
            "brand": "金福",
            "material_code": "AU990",
            "price_fen": price_fen,
        }
        if programme is not None:
            body["programme"] = programme
        return self.client.post("/api/v1/listings", json=body, headers=self.merchant)

    def order(self, listing_id: int, no: str, **extra: Any) -> Any:
        body = {
            "order_no": no,
            "listing_id": listing_id,
            "price_paid_fen": 300000,
            "waybill_no": no,
        }
        return self.client.post("/api/v1/orders", json={**body, **extra}, headers=self.admin)

    def get(self, path: str, as_admin: bool = False) -> Any:
        headers = self.admin if as_admin else self.merchant
        return self.client.get(f"/api/v1{path}", headers=headers).get_json()


@pytest.fixture
def api(client: Any, token: Any, db: Session) -> Platform:
    made = Platform(client, token)
    db.commit()  # the tokens are visible to the requests' sessions
    return made


def refused(answer: Any, status: int = 422) -> str:
    assert answer.status_code == status, answer.get_data(as_text=True)
    return str(answer.get_json()["error"]["message"])


def test_listing_names_its_programme_through_the_api(api: Platform) -> None:
    created = api.listing("axg")  # codes are read case-insensitively
    assert created.status_code == 201, created.get_json()
    named = created.get_json()["programme"]
    assert (named["code"], named["multiplier"], named["name_zh"]) == ("AXG", 3, "安心购 退一赔三")
    listing_id = created.get_json()["id"]
    assert api.get(f"/listings/{listing_id}")["programme"]["code"] == "AXG"
    listed = api.get("/listings")["listings"]
    assert {x["id"]: x["programme"]["code"] for x in listed}[listing_id] == "AXG"
    default = api.listing(None).get_json()["programme"]
    assert (default["code"], default["multiplier"]) == ("JYPS", 10)


@pytest.mark.parametrize(
    ("programme", "status"),
    # Text no database can store is a malformed request (400) before any field is read.
    [("NOPE", 422), ("x" * 17, 422), (7, 422), (["AXG"], 422), ("AXG\x00", 400), ("\ud800", 400)],
)
def test_unknown_programme_is_refused_and_nothing_is_created(
    api: Platform, db: Session, programme: Any, status: int
) -> None:
    before = len(db.exec(select(Listing)).all())
    refused(api.listing(programme), status)
    assert len(db.exec(select(Listing)).all()) == before


def test_an_ended_programme_cannot_be_chosen(api: Platform, db: Session) -> None:
    ks = db.exec(select(Programme).where(Programme.code == "KS_XRG")).one()
    with write(db):
        ks.ends_at = utcnow() - timedelta(days=1)
        db.add(ks)
    assert "not running" in refused(api.listing("KS_XRG"))


def test_order_names_its_own_programme_or_takes_its_listings(
    api: Platform, db: Session, world: Any
) -> None:
    listing_id = api.listing("AXG").get_json()["id"]
    taken = api.order(listing_id, "DY-P1")
    assert taken.status_code == 201, taken.get_json()
    assert taken.get_json()["programme"] == "AXG"
    own = api.order(listing_id, "DY-P2", programme="JYPS")
    assert own.get_json()["programme"] == "JYPS"
    refused(api.order(listing_id, "DY-P3", programme="NOPE"))
    # The merchant names another programme later: orders placed before keep theirs.
    set_programme(
        session=db,
        actor=world["merchant1"],
        listing_id=listing_id,
        programme="KS_XRG",
        now=utcnow(),
    )
    assert api.get("/orders/DY-P1", as_admin=True)["programme"] == "AXG"
    assert api.order(listing_id, "DY-P4").get_json()["programme"] == "KS_XRG"


@pytest.mark.usefixtures("cjk_font_path")
def test_an_order_on_anxin_pays_refund_plus_three_times_plus_postage(
    api: Platform, flow: Any, db: Session, world: Any
) -> None:
    """Named through the API from the listing to the order; the payout follows it."""
    listing_id = api.listing("AXG", price_fen=300000).get_json()["id"]
    since = utcnow() - timedelta(days=1)
    with write(db):
        db.add(
            Membership(
                merchant_id=world.merchant_a.id,
                agreement_version="test",
                agreement_sha256="0" * 64,
                signed_by_id=world["merchant1"].id,
                signed_at=since,
            )
        )
        db.add(LabelPeriod(listing_id=listing_id, label="guarantee", on_at=since))
    item, issued = flow.certified(listing=db.get(Listing, listing_id))
    assert api.order(listing_id, "DY-AXG", item_code=item.code).status_code == 201
    db.expire_all()  # the API's request bound the item to the order: read it afresh
    now = utcnow()
    pack(
        session=db,
        actor=world["inspector1"],
        waybill_no="DY-AXG",
        item_code=item.code,
        certificate_scan=issued.certificate.number,
        seal_no="SEAL-AXG",
        mass_g="5.03",
        now=now,
    )
    ship(session=db, actor=world["inspector1"], waybill_no="DY-AXG", now=now)
    deliver(session=db, actor=world["admin1"], waybill_no="DY-AXG", now=now)
    filed = claims.file_claim(
        session=db,
        certificate=issued.certificate,
        order_no="DY-AXG",
        reason="material",
        description="检测为镀金",
        postage_fen="1500",
        uploads=[jpeg_bytes()],
        files=stored_files(flow.app),
        now=now,
    )
    claims.merchant_answer(
        session=db,
        actor=world["merchant1"],
        number=filed.claim.number,
        accept=True,
        note="",
        uploads=[],
        files=stored_files(flow.app),
        now=now,
    )
    upheld = claims.decide(
        session=db, actor=world["admin1"], number=filed.claim.number, uphold=True, note="", now=now
    )
    assert (upheld.refund_fen, upheld.compensation_fen, upheld.postage_fen) == (
        300000,
        3 * 300000,
        1500,
    )
    assert upheld.payout_fen == 300000 + 900000 + 1500
    order = db.exec(select(Order).where(Order.order_no == "DY-AXG")).one()
    assert db.get(Programme, order.programme_id).code == "AXG"  # type: ignore[union-attr]


def test_merchant_chooses_the_programme_on_the_listing_pages(
    app: Any, db: Session, world: Any
) -> None:
    web = app.test_client()
    login(web, "merchant1")
    form = web.get("/m/listings").get_data(as_text=True)
    assert '<option value="AXG">安心购 退一赔三 ×3</option>' in form
    created = post_form(
        web,
        "/m/listings",
        "/m/listings",
        {
            "title": "足金手镯 安心购",
            "material_code": "AU990",
            "price_yuan": "3280",
            "programme": "AXG",
        },
    )
    assert created.status_code == 302
    page = web.get(created.headers["Location"]).get_data(as_text=True)
    assert "安心购 退一赔三 保障" in page and '<option value="AXG" selected>' in page
    listing = db.exec(select(Listing).where(Listing.title == "足金手镯 安心购")).one()
    changed = web.post(
        f"/m/listings/{listing.id}/programme",
        data={"csrf_token": csrf(web, f"/m/listings/{listing.id}"), "programme": "JYPS"},
    )
    assert changed.status_code == 302
    db.rollback()  # end the test session's read snapshot: the page wrote since
    db.refresh(listing)
    assert db.get(Programme, listing.programme_id).code == "JYPS"  # type: ignore[union-attr]
    other = app.test_client()
    login(other, "merchant2")
    refused = other.post(
        f"/m/listings/{listing.id}/programme",
        data={"csrf_token": csrf(other, "/m/listings"), "programme": "AXG"},
    )
    assert refused.status_code == 404
