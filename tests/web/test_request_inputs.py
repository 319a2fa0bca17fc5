"""Input that used to reach a 500 (or stall a worker): deeply nested JSON, NUL and lone
surrogates in any text, numbers far out of range. Each is a clear 4xx and changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from qc_app.claims import services as claims
from qc_app.claims.models import Claim
from qc_app.intake.models import Consignment
from qc_app.listings.models import Listing
from qc_app.orders.models import Order
from qc_app.rules.engine import load_ruleset
from qc_app.sqltypes import utcnow
from tests.claims_support import Sold, sell
from tests.conftest import Flow, World, jpeg_bytes, stored_files
from tests.web.helpers import TOKEN, login, post_form
from tests.web.test_consumer_claims import file_claim

LISTING = {"title": "足金戒指", "brand": "金福", "material_code": "AU990", "price_fen": 328000}


def count(db: Session, table: Any) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(table)).one())


def post_raw(client: Any, url: str, body: str, headers: dict[str, str]) -> Any:
    return client.post(url, data=body, headers={**headers, "Content-Type": "application/json"})


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_json()["error"]  # type: ignore[no-any-return]


# -- JSON bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 2_000, 200_000])
def test_deeply_nested_json_is_a_400(
    client: Any, db: Session, world: World, token: Any, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = json.dumps(LISTING)[:-1] + f', "style": {nested}}}'
    error = error_of(post_raw(client, "/api/v1/listings", body, token("merchant1")), 400)
    assert "nests too deeply" in error["message"]
    assert count(db, Listing) == 2  # the world's two


def test_a_json_body_over_1_mb_is_a_413(client: Any, db: Session, world: World, token: Any) -> None:
    body = json.dumps({**LISTING, "style": [0] * 600_000})
    answer = post_raw(client, "/api/v1/listings", body, token("merchant1"))
    assert error_of(answer, 413)["code"] == "too_large"
    assert count(db, Listing) == 2


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**LISTING, "title": "足金\ud800戒指"}),
        json.dumps({**LISTING, "brand": "金\u0000福"}),
        json.dumps({**LISTING, "\udfff": "x"}),
        json.dumps({**LISTING, "style": ["ok", {"deep": "\ud83d"}]}),
    ],
    ids=["surrogate", "nul", "surrogate-key", "nested"],
)
def test_unstorable_text_in_json_is_a_400(
    client: Any, db: Session, world: World, token: Any, body: str
) -> None:
    error = error_of(post_raw(client, "/api/v1/listings", body, token("merchant1")), 400)
    assert "cannot be stored" in error["message"]
    assert count(db, Listing) == 2


def test_a_valid_surrogate_pair_is_text(client: Any, world: World, token: Any) -> None:
    body = json.dumps({**LISTING, "title": "足金戒指 \ud83d\udc8d"})  # 💍, escaped as a pair
    created = post_raw(client, "/api/v1/listings", body, token("merchant1"))
    assert created.status_code == 201 and created.get_json()["title"].endswith("💍")


@pytest.mark.parametrize(
    ("listing_id", "message"),
    [
        ("1e400", "far too large"),  # Python's json made this float inf
        ("2147483648", "out of range"),  # one past PostgreSQL's integer: was a 500 there
        ("1" + "0" * 5000, "too long"),  # more digits than int() will even read
        ("1.5", "whole number"),
        ('"abc"', "must be a number"),
        ("null", "must be a number"),
    ],
)
def test_order_listing_id_out_of_range_is_a_422(
    client: Any, db: Session, world: World, token: Any, listing_id: str, message: str
) -> None:
    body = (
        f'{{"order_no": "DY-X", "listing_id": {listing_id}, "price_paid_fen": 100, '
        '"waybill_no": "SF-X"}'
    )
    error = error_of(post_raw(client, "/api/v1/orders", body, token("admin1")), 422)
    assert "Listing" in error["message"] and message in error["message"]
    assert count(db, Order) == 0


@pytest.mark.parametrize("price", ["1e300000", "1e400", "-1e300000", "99999999999999999999999"])
def test_huge_prices_are_refused(
    client: Any, db: Session, world: World, token: Any, price: str
) -> None:
    body = json.dumps(LISTING).replace("328000", price)
    error_of(post_raw(client, "/api/v1/listings", body, token("merchant1")), 422)
    assert count(db, Listing) == 2


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(
    client: Any, world: World, token: Any, constant: str
) -> None:
    body = json.dumps(LISTING).replace("328000", constant)
    error_of(post_raw(client, "/api/v1/listings", body, token("merchant1")), 400)


def test_json_decimals_stay_exact(app: Any, client: Any, flow: Flow, token: Any) -> None:
    code = flow.declare(mass_g="5.02").code
    # A float would round this to 5.03 (no photos: the reason recorded instead).
    body = '{"mass_g": 5.030000000000000001, "no_photo_reason": "camera_fault"}'
    url = f"/api/v1/items/{code}/receive"
    error = error_of(post_raw(client, url, body, token("inspector1")), 422)
    assert "at most 2 decimals" in error["message"]


# -- forms, paths and queries -------------------------------------------------------------------


def test_nul_in_a_form_field_is_refused_and_nothing_is_stored(
    app: Any, db: Session, world: World
) -> None:
    merchant = app.test_client()
    login(merchant, "merchant1")
    answer = post_form(
        merchant,
        "/m/listings",
        "/m/listings",
        {"title": "足金\x00戒指", "brand": "金福", "material_code": "AU990", "price_yuan": "3280"},
    )
    assert answer.status_code == 400
    assert "无法保存的字符" in answer.get_data(as_text=True)
    assert count(db, Listing) == 2


@pytest.mark.parametrize("url", ["/api/v1/items/QC%00", "/api/v1/certificates/GTC%00"])
def test_nul_in_a_path_is_a_400(client: Any, world: World, token: Any, url: str) -> None:
    assert client.get(url, headers=token("merchant1")).status_code == 400  # 500 on PostgreSQL


def test_nul_in_a_query_is_a_400(client: Any) -> None:
    assert client.get("/verify?number=GTC%00").status_code == 400


USERS = {"merchant": "merchant1", "inspector": "inspector1", "analyst": "analyst1"}
USERS |= {"reviewer": "reviewer1", "admin": "admin1"}


@pytest.mark.usefixtures("cjk_font_path")
def test_odd_characters_around_real_codes_in_any_path_are_never_a_500(
    app: Any, flow: Flow, token: Any
) -> None:
    """Lookups normalise a code (no spaces, upper case), so a real code with a newline is
    found; it used to reach a Content-Disposition header as typed (500)."""
    item, issued = flow.certified()
    consignment = flow.db.get_one(Consignment, item.consignment_id).code
    real = {
        "code": [item.code, consignment],
        "number": [issued.certificate.number],
        "waybill_no": ["SF1"],
        "order_no": ["DY1"],
        "digest": ["0" * 64],
    }
    clients: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "qc_roles", ("admin",))
        if "GET" not in rule.methods or rule.endpoint == "static" or not rule.arguments:
            continue
        user = USERS[roles[0]]
        if rule.rule.startswith("/api/"):
            client, headers = app.test_client(), token(user)
        else:
            if user not in clients:
                clients[user] = app.test_client()
                login(clients[user], user)
            client, headers = clients[user], {}
        plain = {name: real.get(name, ["1"])[0] for name in rule.arguments}
        for name in rule.arguments:
            for value in real.get(name, ["1"]):
                for odd in ("%0A", "%09", "%20", "%22"):
                    args = {**plain, name: value + odd}
                    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, a=args: a[m[1]], rule.rule)
                    answer = client.get(url, headers=headers)
                    assert answer.status_code < 500, (url, answer.status_code)


def form_fields() -> set[str]:
    """Every field name the pages post: from the templates (row fields as their first row) and
    the measurement keys of every material family."""
    names: set[str] = set()
    for template in (Path(__file__).resolve().parents[2] / "templates").rglob("*.html"):
        for name in re.findall(r'name="([^"]+)"', template.read_text(encoding="utf-8")):
            names.add(re.sub(r"\{\{\s*i\s*\}\}", "0", name))
    rules = load_ruleset()
    names |= {key for family in rules.families for key in rules.fields(family)}
    return {n for n in names if "{" not in n} - {"csrf_token", "viewport"}


@pytest.mark.usefixtures("cjk_font_path")
@pytest.mark.parametrize("value", ["x" * 5000, "1e300000", "-1e400"])
def test_every_form_with_the_same_hostile_value_in_every_field_is_never_a_500(
    app: Any, flow: Flow, value: str
) -> None:
    """Every POST page, as a user of its role (or anonymous), every field set to one value:
    1e300000 as a price on the listing and consignment forms was a 500 (int() of 10^300002)."""
    sold = sell(flow)
    filed = claims.file_claim(
        session=flow.db,
        certificate=sold.issued.certificate,
        order_no=sold.order.order_no,
        reason="brand",
        description="专柜说不是该品牌",
        postage_fen="800",
        uploads=[jpeg_bytes()],
        files=stored_files(app),
        now=utcnow(),
    )
    item, issued = flow.certified()
    data = dict.fromkeys(form_fields(), value)
    clients: dict[str | None, Any] = {}
    answered: list[tuple[str, int]] = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/") or rule.rule == "/logout":
            continue
        roles = getattr(app.view_functions[rule.endpoint], "qc_roles", None)
        user = USERS[roles[0]] if roles else None
        if user not in clients:
            clients[user] = app.test_client()
            if user:
                login(clients[user], user)
        client = clients[user]
        real = {"code": item.code, "number": issued.certificate.number, "waybill_no": "SF1"}
        if rule.rule.startswith("/claims/"):
            real["number"] = filed.claim.number
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, r=real: r.get(m[1], "1"), rule.rule)
        page = client.get("/verify").get_data(as_text=True)
        token = TOKEN.search(page)
        assert token
        answer = client.post(url, data={**data, "csrf_token": token.group(1)})
        assert "/login" not in answer.headers.get("Location", ""), url  # still logged in
        answered.append((url, answer.status_code))
    assert [a for a in answered if a[1] >= 500] == []
    assert len(answered) > 25 and sum(status != 400 for _, status in answered) > 20


# -- money typed by people ---------------------------------------------------------------------


@pytest.fixture
def sold(flow: Flow) -> Sold:
    return sell(flow)


@pytest.mark.usefixtures("cjk_font_path")
@pytest.mark.parametrize("postage", ["1e300000", "1e999999999", "²", "9" * 5000])
def test_claim_form_refuses_a_huge_postage(
    client: Any, db: Session, sold: Sold, postage: str
) -> None:
    answer = file_claim(client, sold, postage_yuan=postage)  # 1e300000 took 3-4 s, then a 500
    assert answer.status_code == 422
    assert "邮费须为 0–100000 分的整数" in answer.get_data(as_text=True)
    assert count(db, Claim) == 0


@pytest.mark.usefixtures("cjk_font_path")
@pytest.mark.parametrize("postage", [10**30, "1e300000", -5, 12.5])
def test_api_decision_refuses_a_postage_out_of_range(
    client: Any, db: Session, sold: Sold, token: Any, postage: Any
) -> None:
    file_claim(client, sold)
    number = db.exec(select(Claim)).one().number
    answer = client.post(
        f"/api/v1/claims/{number}/decision",
        json={"decision": "uphold", "postage_fen": postage},
        headers=token("admin1"),
    )
    assert "postage" in error_of(answer, 422)["message"]
    db.rollback()
    assert db.exec(select(Claim)).one().payout_fen is None


# -- 405 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "kind"), [("/api/v1/listings", "json"), ("/login", "html")])
def test_405_keeps_its_allow_header(client: Any, url: str, kind: str) -> None:
    answer = client.delete(url)
    assert answer.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in answer.headers["Allow"].split(",")}
    assert (answer.get_json() is not None) == (kind == "json")
