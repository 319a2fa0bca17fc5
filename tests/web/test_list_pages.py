"""Issue 18: every list page has search, the filters its user needs and paging, refuses bad
input in words, keeps each shop to its own rows, and names listings and shops (not ids)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from qc_app import lists
from qc_app.certificates.revocation import revoke
from qc_app.db import write
from qc_app.intake.models import Consignment
from qc_app.listings.services import create_listing
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.claims_support import file, sell
from tests.conftest import Flow, World
from tests.web.helpers import login

NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREV = re.compile(r'<a href="([^"]+)" rel="prev">')


def signed_in(app: Flask, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def listings(db: Session, world: World, titles: list[str], **kw: Any) -> list[Any]:
    made = [
        create_listing(
            session=db,
            actor=world["merchant1"],
            title=title,
            brand="金福",
            material_code=kw.get("material", "AU990"),
            price_fen=100000,
            now=kw.get("now", utcnow()),
        )
        for title in titles
    ]
    return made


def order(db: Session, world: World, no: str, listing: Any = None) -> Any:
    return create_order(
        session=db,
        actor=world["admin1"],
        order_no=no,
        listing_id=(listing or world.listing_gold).id,
        price_paid_fen=100000,
        waybill_no=f"SF-{no}",
        now=utcnow(),
    )


# -- paging -----------------------------------------------------------------------------------


def walk(client: Any, url: str, link: re.Pattern[str]) -> tuple[list[list[str]], str]:
    """The titles on each page, following `link` (next or prev) to its end; and the last URL."""
    found = []
    while True:
        page = text(client.get(url))
        found.append(re.findall(r"名表 (\d+)", page))
        match = link.search(page)
        if not match:
            return found, url
        url = match.group(1).replace("&amp;", "&")


def test_pages_hold_every_row_once_with_equal_timestamps(
    app: Flask, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 3)
    same = datetime(2025, 3, 8, 4, 0, tzinfo=UTC)
    listings(db, world, [f"名表 {i}" for i in range(1, 9)], now=same)
    client = signed_in(app, "merchant1")
    forward, last = walk(client, "/m/listings?q=名表", NEXT)
    assert forward == [["8", "7", "6"], ["5", "4", "3"], ["2", "1"]]
    assert 'rel="prev"' not in text(client.get("/m/listings?q=名表"))  # nothing before the first
    backward, first = walk(client, last, PREV)
    assert backward == [["2", "1"], ["5", "4", "3"], ["8", "7", "6"]]
    assert 'rel="prev"' not in text(client.get(first))


def test_a_page_keeps_its_filters_in_its_links(
    app: Flask, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    listings(db, world, [f"名表 {i}" for i in range(1, 4)], material="AU750")
    listings(db, world, [f"名表 {i}" for i in range(4, 7)])
    client = signed_in(app, "merchant1")
    pages, _ = walk(client, "/m/listings?material=AU750", NEXT)
    assert pages == [["3", "2"], ["1"]]


# -- search -----------------------------------------------------------------------------------


def test_listing_search_finds_the_listing_and_only_it(
    app: Flask, db: Session, world: World
) -> None:
    listings(db, world, ["翡翠手镯 冰种", "和田玉吊坠"])
    page = text(signed_in(app, "merchant1").get("/m/listings?q=冰种"))
    assert "翡翠手镯 冰种" in page
    assert "和田玉吊坠" not in page and "足金戒指" not in page


def test_order_search_by_waybill_and_names_listing_and_shop(
    app: Flask, db: Session, world: World
) -> None:
    order(db, world, "ORD-A1")
    order(db, world, "ORD-B2", world.listing_b)
    page = text(signed_in(app, "admin1").get("/admin/orders?q=SF-ORD-B2"))
    assert "ORD-B2" in page and "ORD-A1" not in page
    row = page[page.index('<td class="mono">ORD-B2') :].split("</tr>")[0]
    assert "足金手镯" in row and "乙店 Shop B" in row  # the listing's title, the shop's name
    assert f"<td>{world.listing_b.id}</td>" not in row


def test_certificate_search_and_status_filter(
    app: Flask, db: Session, world: World, flow: Flow
) -> None:
    _, kept = flow.certified()
    _, gone = flow.certified()
    revoke(
        session=db,
        actor=world["admin1"],
        number=gone.certificate.number,
        reason="测试",
        now=utcnow(),
    )
    client = signed_in(app, "admin1")
    revoked = text(client.get("/admin/certificates?state=revoked"))
    assert gone.certificate.number in revoked and kept.certificate.number not in revoked
    found = text(client.get(f"/admin/certificates?q={kept.certificate.number[:-3]}"))
    assert kept.certificate.number in found and gone.certificate.number not in found


def test_users_filter_by_role(app: Flask, world: World) -> None:
    page = text(signed_in(app, "admin1").get("/admin/users?state=reviewer"))
    assert "reviewer1" in page and "reviewer2" in page
    assert "merchant1" not in page.split('id="users"')[1]


def test_merchant_search_by_licence(app: Flask, world: World) -> None:
    page = text(signed_in(app, "admin1").get("/admin/merchants?q=L-B"))
    assert "乙店 Shop B" in page and "甲店 Shop A" not in page


# -- filters ----------------------------------------------------------------------------------


def test_material_and_merchant_filters_narrow_the_certify_queue(
    app: Flask, world: World, flow: Flow
) -> None:
    (ours,) = flow.approved(1)
    theirs = flow.declare(listing=world.listing_b, merchant="merchant2")
    flow.receive(theirs)
    flow.approve(flow.inspect(theirs))
    client = signed_in(app, "inspector1")
    everything = text(client.get("/certify"))
    assert ours.code in everything and theirs.code in everything
    shop_b = text(client.get(f"/certify?merchant={world.merchant_b.id}"))
    assert theirs.code in shop_b and ours.code not in shop_b
    assert ours.code in text(client.get("/certify?material=AU990"))
    assert ours.code not in text(client.get("/certify?material=AU750"))


def test_date_range_is_read_in_china_time(app: Flask, db: Session, world: World) -> None:
    # 2025-03-07 17:30 UTC is 03-08 01:30 in Shanghai; 03-08 16:30 UTC is 03-09 00:30 there.
    early, late = listings(db, world, ["三月八日", "三月九日"])
    with write(db):
        early.created_at = datetime(2025, 3, 7, 17, 30, tzinfo=UTC)
        late.created_at = datetime(2025, 3, 8, 16, 30, tzinfo=UTC)
        db.add_all([early, late])
    client = signed_in(app, "merchant1")
    day = text(client.get("/m/listings?from=2025-03-08&to=2025-03-08"))
    assert "三月八日" in day and "三月九日" not in day
    after = text(client.get("/m/listings?from=2025-03-09"))
    assert "三月九日" in after and "三月八日" not in after


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("from=2025-13-40", "日期格式应为"),
        ("to=yesterday", "日期格式应为"),
        ("from=2025-03-09&to=2025-03-08", "结束日期早于开始日期"),
        ("state=lost", "没有这个状态"),
        ("merchant=abc", "没有这个商家"),
        ("material=GOLDISH", "没有这个材质"),
        ("after=1x", "页码链接无效"),
        ("q=" + "x" * 61, "搜索内容过长"),
    ],
)
def test_bad_filter_values_are_refused_in_words(
    app: Flask, world: World, query: str, words: str
) -> None:
    response = signed_in(app, "admin1").get(f"/admin/orders?{query}")
    assert response.status_code == 422
    page = text(response)
    assert words in page and 'class="field-error"' in page


def test_a_refused_date_is_said_in_english_too(app: Flask, world: World) -> None:
    response = signed_in(app, "admin1").get("/admin/certificates?from=8.3.2025&lang=en")
    assert response.status_code == 422
    assert "Dates are written year-month-day" in text(response)


# -- isolation --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/m/listings", "/claims", "/m/consignments"])
def test_a_merchant_never_sees_another_shops_rows_whatever_it_asks(
    app: Flask, db: Session, world: World, flow: Flow, path: str
) -> None:
    theirs = flow.declare(listing=world.listing_b, merchant="merchant2")
    consignment = db.get(Consignment, theirs.consignment_id)
    assert consignment is not None
    file(flow, sell(flow))  # a claim of merchant1's own
    page = text(signed_in(app, "merchant1").get(f"{path}?merchant={world.merchant_b.id}"))
    assert "足金手镯" not in page  # merchant2's listing
    assert "乙店 Shop B" not in page
    assert consignment.code not in page


# -- scanner ----------------------------------------------------------------------------------


def test_a_scanned_item_code_in_the_certify_search_opens_its_issue_step(
    app: Flask, flow: Flow
) -> None:
    first, _second = flow.approved(2)
    response = signed_in(app, "inspector1").get(f"/certify?q={first.code.lower()}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certify/{first.code}")


def test_a_claim_number_typed_exactly_opens_the_claim(app: Flask, world: World, flow: Flow) -> None:
    filed = file(flow, sell(flow))
    response = signed_in(app, "merchant1").get(f"/claims?q={filed.claim.number}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/claims/{filed.claim.number}")


def test_a_partial_code_lists_rather_than_opens(app: Flask, flow: Flow) -> None:
    first, _ = flow.approved(2)
    response = signed_in(app, "inspector1").get(f"/certify?q={first.code[:-2]}")
    assert response.status_code == 200
