"""The JSON API of DESIGN.md §8 end to end with bearer tokens, and its error contract."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from qc_app.certificates.models import Certificate
from qc_app.certificates.signing import verifier_from_jwks
from qc_app.items.models import Item, Photo
from qc_app.listings.models import Listing
from tests.conftest import NO_PHOTO, World, jpeg_bytes, other_views, stored_files

API = "/api/v1"
GOLD = {"mass_g": "5.03", "fineness_permille": 999.2, "metal": "Au"}
GOLD_750 = {"mass_g": "5.03", "fineness_permille": 750.0, "metal": "Au"}


class Api:
    """The test client speaking JSON as one of the world's users."""

    def __init__(self, client: Any, headers: dict[str, dict[str, str]]) -> None:
        self.client, self._headers = client, headers

    def headers(self, user: str) -> dict[str, str]:
        return self._headers[user]

    def get(self, user: str | None, path: str) -> Any:
        return self.client.get(API + path, headers=self.headers(user) if user else {})

    def post(self, user: str | None, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(user) if user else {}
        if body is not None:
            kwargs["json"] = body
        return self.client.post(API + path, headers=headers, **kwargs)

    # -- the steps of the path, each asserting its own success --------------------------------

    def listing(self, material_code: str = "AU990", price_fen: int = 328000) -> int:
        answer = self.post(
            "merchant1",
            "/listings",
            {
                "title": "足金戒指 API",
                "brand": "金福",
                "material_code": material_code,
                "price_fen": price_fen,
            },
        )
        assert answer.status_code == 201, answer.get_json()
        return int(answer.get_json()["id"])

    def consign(self, listing_id: int, mass_g: str = "5.02") -> str:
        answer = self.post(
            "merchant1", "/consignments", {"items": [{"listing_id": listing_id, "mass_g": mass_g}]}
        )
        assert answer.status_code == 201, answer.get_json()
        return str(answer.get_json()["items"][0]["code"])

    def receive(
        self, code: str, mass_g: str = "5.03", dimensions: dict[str, str] | None = None
    ) -> Any:
        data: dict[str, Any] = {"mass_g": mass_g, **NO_PHOTO}  # no photos: the reason instead
        if dimensions:
            data["dimensions"] = dimensions
        answer = self.post("inspector1", f"/items/{code}/receive", data)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def inspect(
        self, code: str, measurements: dict[str, Any] = GOLD, analyst: str = "analyst1"
    ) -> dict[str, Any]:
        answer = self.post(analyst, f"/items/{code}/inspections", measurements)
        assert answer.status_code == 201, answer.get_json()
        return dict(answer.get_json())

    def approve(self, inspection_id: int, reviewer: str = "reviewer2") -> dict[str, Any]:
        answer = self.post(reviewer, f"/inspections/{inspection_id}/approve")
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    def issue(self, code: str) -> dict[str, Any]:
        answer = self.post("inspector1", f"/items/{code}/certificate")
        assert answer.status_code == 201, answer.get_json()
        return dict(answer.get_json())

    def received_item(self, measurements: dict[str, Any] = GOLD) -> tuple[str, dict[str, Any]]:
        code = self.consign(self.listing())
        self.receive(code)
        return code, self.inspect(code, measurements)

    def certified_item(self) -> tuple[str, dict[str, Any]]:
        code, found = self.received_item()
        self.approve(found["id"])
        return code, self.issue(code)

    def state(self, code: str) -> str:
        return str(self.get("admin1", f"/items/{code}").get_json()["state"])


@pytest.fixture
def api(client: Any, token: Callable[[str], dict[str, str]], world: World, db: Session) -> Api:
    # Every token before the first request: the test client shares one app context, and so one
    # request session, whose open read snapshot would not see tokens created later.
    headers = {name: token(name) for name in world.users}
    db.commit()
    return Api(client, headers)


def assert_error(answer: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error contract: a fitting status and {"error": {"code", "message"}} as JSON."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    error = answer.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return dict(error)


# -- the passing path -------------------------------------------------------------------------


def test_merchant_creates_listing_with_integer_price(api: Api) -> None:
    answer = api.post(
        "merchant1",
        "/listings",
        {"title": "足金吊坠", "brand": "金福", "material_code": "AU990", "price_fen": 128800},
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["material_code"] == "AU990"
    assert body["price_fen"] == 128800
    assert isinstance(body["id"], int)


def test_the_highest_price_is_stored_whole(api: Api, db: Session) -> None:
    # ¥1,000,000,000 is 10^11 fen: past a 32-bit column, which PostgreSQL refused with a 500.
    top = 10**11
    answer = api.post(
        "merchant1", "/listings", {"title": "翡翠手镯", "material_code": "AU990", "price_fen": top}
    )
    assert answer.status_code == 201
    assert db.get(Listing, answer.get_json()["id"]).price_fen == top
    refused = api.post(
        "merchant1",
        "/listings",
        {"title": "翡翠手镯", "material_code": "AU990", "price_fen": top + 1},
    )
    assert_error(refused, 422, "validation_failed")


def test_consignment_returns_declared_items(api: Api) -> None:
    listing_id = api.listing()
    answer = api.post(
        "merchant1",
        "/consignments",
        {
            "items": [
                {"listing_id": listing_id, "mass_g": "5.02"},
                {"listing_id": listing_id, "mass_g": 7.5},
            ]
        },
    )
    assert answer.status_code == 201
    items = answer.get_json()["items"]
    assert [i["declared_mass_g"] for i in items] == ["5.02", "7.50"]
    assert {i["state"] for i in items} == {"declared"}
    assert {i["declared_material"] for i in items} == {"AU990"}
    assert len({i["code"] for i in items}) == 2


def test_receive_with_json_records_mass(api: Api, db: Session) -> None:
    code = api.consign(api.listing())
    body = api.receive(code, mass_g="5.03")
    assert body["state"] == "received"
    assert body["received_mass_g"] == "5.03"
    item = db.exec(select(Item).where(Item.code == code)).one()
    assert db.exec(select(Photo).where(Photo.item_id == item.id)).all() == []


def test_receive_multipart_stores_the_photo(api: Api, db: Session) -> None:
    code = api.consign(api.listing())
    answer = api.post(
        "inspector1",
        f"/items/{code}/receive",
        data={"mass_g": "5.03", "photo": (io.BytesIO(jpeg_bytes()), "item.jpg"), **other_views()},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["state"] == "received"
    item = db.exec(select(Item).where(Item.code == code)).one()
    photos = db.exec(select(Photo).where(Photo.item_id == item.id)).all()
    assert [(p.kind, p.view, p.width) for p in photos] == [
        ("intake", "front", 320),
        ("intake", "back", 320),
        ("intake", "stamp", 320),
    ]


def test_analyst_measurements_name_fine_gold(api: Api) -> None:
    code, found = api.received_item()
    assert found["verdict"] == "pass"
    assert found["material_code"] == "AU990"
    assert found["material_name"] == "足金"
    assert found["measurements"]["fineness_permille"] == "999.2"
    assert found["measurements"]["mass_g"] == "5.03"
    assert api.state(code) == "review"


def test_second_reviewer_approves_to_approved(api: Api) -> None:
    code, found = api.received_item()
    assert api.approve(found["id"], reviewer="reviewer2")["state"] == "approved"
    assert api.state(code) == "approved"


def test_issued_certificate_is_public_and_verifies_with_jwks(api: Api, cjk_font_path: Any) -> None:
    code, issued = api.certified_item()
    answer = api.client.get(f"{API}/certificates/{issued['number']}")  # no token: public
    assert answer.status_code == 200
    cert = answer.get_json()
    assert cert["status"] == "valid"
    assert cert["payload"]["number"] == issued["number"]
    assert cert["payload"]["item"]["code"] == code
    assert cert["payload"]["material"]["code"] == "AU990"
    assert cert["payload"]["conclusion"] == "pass"
    jwks = api.client.get("/.well-known/jwks.json").get_json()
    issued_at = datetime.fromisoformat(cert["payload"]["issued_at"])
    verifier_from_jwks(jwks).verify(
        cert["payload_canonical"].encode("utf-8"), cert["signature"], cert["kid"], at=issued_at
    )
    assert json.loads(cert["payload_canonical"]) == cert["payload"]


def test_issue_answers_number_check_code_and_verify_url(api: Api, cjk_font_path: Any) -> None:
    _, issued = api.certified_item()
    assert re.fullmatch(r"GTC-[0-9A-Z]{13}", issued["number"])
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", issued["check_code"])
    assert issued["verify_url"].startswith(f"http://qc.test/v/{issued['number']}?k=")


def test_certified_item_is_packed_with_verify_url_and_shipped(
    api: Api, world: World, cjk_font_path: Any
) -> None:
    code, issued = api.certified_item()
    item_listing = api.get("admin1", f"/items/{code}").get_json()["listing_id"]
    order = api.post(
        "admin1",
        "/orders",
        {
            "order_no": "DY-1001",
            "listing_id": item_listing,
            "price_paid_fen": 328000,
            "waybill_no": "SF100200",
        },
    )
    assert order.status_code == 201, order.get_json()
    packed = api.post(
        "inspector1",
        "/packing",
        {
            "waybill_no": "SF100200",
            "item_code": code,
            "certificate": issued["verify_url"],
            "seal_no": "SEAL-77",
            "mass_g": "5.03",
        },
    )
    assert packed.status_code == 200, packed.get_json()
    assert packed.get_json()["state"] == "packed"
    assert api.state(code) == "packed"
    shipped = api.post("inspector1", "/orders/SF100200/ship")
    assert shipped.status_code == 200, shipped.get_json()
    assert shipped.get_json()["state"] == "shipped"
    assert api.state(code) == "shipped"


# -- the failing path -------------------------------------------------------------------------


def test_gold_declared_990_measuring_750_fails_as_18k(api: Api) -> None:
    _, found = api.received_item(GOLD_750)
    assert found["verdict"] == "fail"
    assert found["material_code"] == "AU750"
    assert found["material_name"] == "18K金"
    assert "fineness_below_declared" in {r["code"] for r in found["reasons"]}


def test_approved_failure_returns_to_merchant(api: Api) -> None:
    code, found = api.received_item(GOLD_750)
    api.approve(found["id"])
    assert api.state(code) == "return_to_merchant"


def test_certificate_for_failed_item_is_refused(api: Api, db: Session, cjk_font_path: Any) -> None:
    code, found = api.received_item(GOLD_750)
    api.approve(found["id"])
    assert_error(api.post("inspector1", f"/items/{code}/certificate"), 409)
    assert db.exec(select(Certificate)).all() == []
    assert api.state(code) == "return_to_merchant"


def test_refused_certificate_leaves_no_signed_pdf(api: Api, app: Flask, cjk_font_path: Any) -> None:
    code, found = api.received_item(GOLD_750)
    api.approve(found["id"])
    assert api.post("inspector1", f"/items/{code}/certificate").status_code == 409
    assert stored_files(app).list("certificates") == []


# -- the error contract -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-real-token", "Bearer ", "Basic bWVyY2hhbnQxOnRlc3Q=", "not-a-scheme"],
)
def test_missing_or_bad_token_is_401(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = api.client.post(
        f"{API}/listings",
        headers=headers,
        json={"title": "x", "material_code": "AU990", "price_fen": 100},
    )
    assert_error(answer, 401, "unauthorized")


def test_bearer_scheme_is_case_insensitive(api: Api) -> None:
    value = api.headers("merchant1")["Authorization"].split(" ", 1)[1]
    answer = api.client.get(
        f"{API}/items/QC0000000000", headers={"Authorization": f"bearer {value}"}
    )
    assert_error(answer, 404, "not_found")  # past authentication: the item does not exist


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("analyst1", "/listings"),
        ("inspector1", "/consignments"),
        ("merchant1", "/orders"),
        ("reviewer1", "/packing"),
        ("analyst1", "/certificates/GTC-0000000000000/revoke"),
    ],
)
def test_wrong_role_is_403(api: Api, user: str, path: str) -> None:
    assert_error(api.post(user, path, {}), 403)


@pytest.mark.parametrize(
    ("user", "step"),
    [
        ("merchant1", "receive"),
        ("analyst1", "receive"),
        ("inspector1", "inspections"),
        ("merchant1", "certificate"),
        ("analyst1", "certificate"),
    ],
)
def test_wrong_role_on_item_step_is_403_and_item_unchanged(api: Api, user: str, step: str) -> None:
    code = api.consign(api.listing())
    assert_error(api.post(user, f"/items/{code}/{step}", {"mass_g": "5.03"}), 403)
    assert api.state(code) == "declared"


def test_analyst_cannot_approve(api: Api) -> None:
    _, found = api.received_item()
    assert_error(api.post("analyst1", f"/inspections/{found['id']}/approve"), 403)


def test_other_merchants_item_is_404(api: Api) -> None:
    code = api.consign(api.listing())
    assert api.get("merchant1", f"/items/{code}").status_code == 200
    assert_error(api.get("merchant2", f"/items/{code}"), 404, "not_found")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("title=x&price_fen=1", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ("", "application/json"),
    ],
)
def test_non_json_body_is_400(api: Api, data: str, content_type: str) -> None:
    answer = api.post("merchant1", "/listings", data=data, content_type=content_type)
    assert_error(answer, 400, "bad_request")


@pytest.mark.parametrize(
    ("measurements", "field"),
    [
        # A measurement is named as the lab form names it; an unknown key by itself.
        ({**GOLD, "fineness_permille": 1200}, "Fineness (XRF)"),
        ({**GOLD, "fineness_permille": "1200"}, "Fineness (XRF)"),
        ({**GOLD, "mass_g": "abc"}, "Mass"),
        ({**GOLD, "metal": "Fe"}, "Main element"),
        ({**GOLD, "density": "19.3"}, "density"),
    ],
)
def test_invalid_measurement_is_422_and_item_stays_received(
    api: Api, measurements: dict[str, Any], field: str
) -> None:
    code = api.consign(api.listing())
    api.receive(code)
    error = assert_error(
        api.post("analyst1", f"/items/{code}/inspections", measurements), 422, "validation_failed"
    )
    assert field in error["message"]
    assert api.state(code) == "received"


@pytest.mark.parametrize("mass_g", ["abc", "-1", "5.001", True, None])
def test_invalid_received_mass_is_422_and_item_stays_declared(api: Api, mass_g: Any) -> None:
    code = api.consign(api.listing())
    answer = api.post("inspector1", f"/items/{code}/receive", {"mass_g": mass_g})
    assert_error(answer, 422, "validation_failed")
    assert api.state(code) == "declared"


def test_unknown_material_code_in_listing_is_422(api: Api) -> None:
    answer = api.post(
        "merchant1", "/listings", {"title": "x", "material_code": "AU999X", "price_fen": 100}
    )
    assert "AU999X" in assert_error(answer, 422, "validation_failed")["message"]


def test_unknown_declared_material_in_consignment_is_422(api: Api) -> None:
    listing_id = api.listing()
    answer = api.post(
        "merchant1",
        "/consignments",
        {
            "items": [
                {"listing_id": listing_id, "mass_g": "5.02", "declared_material": "UNOBTAINIUM"}
            ]
        },
    )
    assert_error(answer, 422, "validation_failed")


@pytest.mark.parametrize("price_fen", [12.5, "12.5", 0, True])
def test_non_integer_or_non_positive_price_is_422(api: Api, price_fen: Any) -> None:
    answer = api.post(
        "merchant1", "/listings", {"title": "x", "material_code": "AU990", "price_fen": price_fen}
    )
    assert_error(answer, 422, "validation_failed")


def test_receiving_twice_is_409(api: Api) -> None:
    code = api.consign(api.listing())
    api.receive(code, mass_g="5.03")
    answer = api.post("inspector1", f"/items/{code}/receive", {"mass_g": "9.99", **NO_PHOTO})
    assert_error(answer, 409, "illegal_transition")
    assert api.get("admin1", f"/items/{code}").get_json()["received_mass_g"] == "5.03"


def test_approving_twice_is_409(api: Api) -> None:
    code, found = api.received_item()
    api.approve(found["id"], reviewer="reviewer2")
    assert_error(api.post("reviewer1", f"/inspections/{found['id']}/approve"), 409)
    assert api.state(code) == "approved"


def test_reviewer_who_recorded_the_inspection_cannot_approve_it(api: Api) -> None:
    code = api.consign(api.listing())
    api.receive(code)
    found = api.inspect(code, analyst="reviewer1")
    assert_error(
        api.post("reviewer1", f"/inspections/{found['id']}/approve"), 403, "separation_of_duties"
    )
    assert api.state(code) == "review"
    assert api.approve(found["id"], reviewer="reviewer2")["state"] == "approved"
    assert api.state(code) == "approved"


def test_reviewer_sends_back_with_a_note(api: Api) -> None:
    code, found = api.received_item()
    answer = api.post(
        "reviewer2", f"/inspections/{found['id']}/reject", {"note": "XRF 读数不稳，请复测"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["state"] == "sent_back"
    assert api.state(code) == "in_inspection"


@pytest.mark.parametrize("body", [{}, {"note": "  "}])
def test_send_back_without_a_note_is_422(api: Api, body: dict[str, Any]) -> None:
    code, found = api.received_item()
    assert_error(api.post("reviewer2", f"/inspections/{found['id']}/reject", body), 422)
    assert api.state(code) == "review"


def test_send_back_with_a_null_note_is_422(api: Api) -> None:
    code, found = api.received_item()
    assert_error(api.post("reviewer2", f"/inspections/{found['id']}/reject", {"note": None}), 422)
    assert api.state(code) == "review"


def test_packing_with_a_null_seal_is_422(api: Api, cjk_font_path: Any) -> None:
    code, issued = api.certified_item()
    listing_id = api.get("admin1", f"/items/{code}").get_json()["listing_id"]
    api.post(
        "admin1",
        "/orders",
        {
            "order_no": "DY-2",
            "listing_id": listing_id,
            "price_paid_fen": 328000,
            "waybill_no": "SF2",
        },
    )
    answer = api.post(
        "inspector1",
        "/packing",
        {
            "waybill_no": "SF2",
            "item_code": code,
            "certificate": issued["verify_url"],
            "seal_no": None,
            "mass_g": "5.03",
        },
    )
    assert_error(answer, 422)
    assert api.state(code) == "certified"


def test_revoke_with_a_null_reason_is_422(api: Api, cjk_font_path: Any) -> None:
    _, issued = api.certified_item()
    answer = api.post("admin1", f"/certificates/{issued['number']}/revoke", {"reason": None})
    assert_error(answer, 422)
    assert api.client.get(f"{API}/certificates/{issued['number']}").get_json()["status"] == (
        "valid"
    )


# -- the OpenAPI document ---------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_lists_every_registered_api_path(api: Api, app: Flask) -> None:
    doc = api.client.get(f"{API}/openapi.json").get_json()
    registered = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    registered.discard((f"{API}/openapi.json", "get"))  # the document does not describe itself
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert registered == documented


JADE_B = {"mass_g": 12.41, "species": "jadeite", "ri": 1.66, "sg": "3.10", "ir_polymer": True}


def jade_received(api: Api) -> str:
    code = api.consign(api.listing("JADEITE"), mass_g="12.40")
    api.receive(code, mass_g="12.41")
    return code


def test_jadeite_is_judged_through_the_api_with_its_own_keys(api: Api) -> None:
    found = api.inspect(jade_received(api), JADE_B)
    assert found["material_name"] == "翡翠（处理）"
    assert found["material_code"] == "JADEITE_TREATED"
    assert found["verdict"] == "fail"
    assert found["measurements"]["ir_polymer"] is True
    assert found["measurements"]["ri"] == "1.660"
    decisive = [r["code"] for r in found["reasons"] if r["decisive"]]
    assert decisive == ["treated_not_declared"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ri": 7.2}, "Refractive index"),
        ({"ir_polymer": "yes"}, "IR: polymer / resin filling"),
        ({"species": "unobtainium"}, "species"),
        ({"fineness_permille": 999}, "fineness_permille"),
        ({"species": "jadeite", "ri": "1.540"}, "ri"),
    ],
)
def test_jade_readings_out_of_range_or_family_are_422(
    api: Api, change: dict[str, Any], field: str
) -> None:
    code = jade_received(api)
    error = assert_error(
        api.post("analyst1", f"/items/{code}/inspections", JADE_B | change),
        422,
        "validation_failed",
    )
    assert field in error["message"]
    assert api.state(code) == "received"


def test_openapi_lists_every_measurement_key_of_every_family(api: Api) -> None:
    document = api.get(None, "/openapi.json").get_json()
    schema = document["components"]["schemas"]["Measurements"]
    for key in ("mass_g", "fineness_permille", "species", "growth", "ri", "ir_polymer", "dye"):
        assert key in schema["properties"]
    assert "pearl_freshwater" in schema["properties"]["species"]["enum"]
    assert {"natural", "synthetic", "hpht", "cvd", "simulant"} <= set(
        schema["properties"]["growth"]["enum"]
    )
