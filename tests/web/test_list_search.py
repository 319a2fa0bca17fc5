"""Issue 18: list search through indexes (migration 0021, qc_app/lists.py). Names and titles
are found by any part (three characters or more through a trigram index: SQLite's FTS5 tables
kept in step by triggers, PostgreSQL's pg_trgm), codes from their beginning, as typed or in
upper case; the intake page counts the items still expected of its page's consignments."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import inspect, text
from sqlmodel import Session

from qc_app.db import engine_of, write
from qc_app.intake.models import Consignment
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.merchants.models import Merchant
from qc_app.migrate import downgrade, upgrade
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, World
from tests.web.test_list_pages import listings, signed_in
from tests.web.test_list_pages import text as page_of


def titles(client: Any, q: str) -> list[str]:
    """The titles /m/listings shows for the search `q`."""
    page = page_of(client.get("/m/listings", query_string={"q": q}))
    return re.findall(r'<tr><td>\d+</td><td><a href="[^"]*">([^<]*)</a>', page)


def test_a_title_is_found_by_any_three_of_its_characters_and_only_it(
    app: Flask, db: Session, world: World
) -> None:
    listings(db, world, ["翡翠手镯 冰种飘花", "和田玉吊坠 籽料"])
    client = signed_in(app, "merchant1")
    assert titles(client, "冰种飘") == ["翡翠手镯 冰种飘花"]
    assert titles(client, "镯 冰") == ["翡翠手镯 冰种飘花"]  # across the space
    assert titles(client, "玉吊坠 籽") == ["和田玉吊坠 籽料"]
    assert titles(client, "冰种飘花啊") == []


def test_latin_search_ignores_case_and_reads_quotes_and_wildcards_as_text(
    app: Flask, db: Session, world: World
) -> None:
    listings(db, world, ['Rolex "Sub" 50%_off', "Rolex Daytona"])
    client = signed_in(app, "merchant1")
    sub, daytona = "Rolex &#34;Sub&#34; 50%_off", "Rolex Daytona"
    assert titles(client, "ROLEX") == [daytona, sub]
    assert titles(client, "rOl") == [daytona, sub]
    assert titles(client, '"Sub"') == [sub]
    assert titles(client, "50%") == [sub]
    assert titles(client, "%_o") == [sub]
    assert titles(client, "x%y") == []
    assert titles(client, "%") == [sub]  # short: read row by row, still literal


def test_a_shop_is_found_by_part_of_its_name_and_a_licence_from_its_beginning(
    app: Flask, world: World
) -> None:
    client = signed_in(app, "admin1")
    page = page_of(client.get("/admin/merchants?q=Shop B"))
    assert "乙店 Shop B" in page and "甲店 Shop A" not in page
    by_licence = page_of(client.get("/admin/merchants?q=L-A"))
    assert "甲店 Shop A" in by_licence and "乙店 Shop B" not in by_licence
    assert "乙店 Shop B" not in page_of(client.get("/admin/merchants?q=-B"))  # not its middle


def test_a_code_is_found_from_its_beginning_typed_in_lower_case(app: Flask, flow: Flow) -> None:
    first, second = flow.approved(2)
    client = signed_in(app, "inspector1")
    page = page_of(client.get(f"/certify?q={first.code[:-3].lower()}"))
    assert first.code in page and second.code not in page
    tail = page_of(client.get(f"/certify?q={first.code[-6:]}"))
    assert first.code not in tail  # a code's end is not its beginning


def test_a_shop_name_finds_the_shops_items_in_a_queue(app: Flask, world: World, flow: Flow) -> None:
    ours = flow.declare()
    theirs = flow.declare(listing=world.listing_b, merchant="merchant2")
    page = page_of(signed_in(app, "inspector1").get("/intake?q=Shop B"))
    assert theirs.code not in page  # items are not listed on the intake page: consignments
    ours_c, theirs_c = (flow.db.get(Consignment, i.consignment_id) for i in (ours, theirs))
    assert ours_c is not None and theirs_c is not None
    assert theirs_c.code in page and ours_c.code not in page


def test_the_search_index_follows_inserts_updates_and_deletes(
    app: Flask, db: Session, world: World
) -> None:
    (made,) = listings(db, world, ["铂金对戒 素圈"])
    client = signed_in(app, "merchant1")
    assert titles(client, "金对戒") == ["铂金对戒 素圈"]
    with write(db):
        made.title = "铂金耳钉 光面"
        db.add(made)
    assert titles(client, "金对戒") == []
    assert titles(client, "金耳钉") == ["铂金耳钉 光面"]
    with write(db):
        shop = db.get(Merchant, world.merchant_b.id)
        assert shop is not None
        shop.name = "丙店 Shop C"
        db.add(shop)
    admin = signed_in(app, "admin1")
    assert "丙店 Shop C" in page_of(admin.get("/admin/merchants?q=Shop C"))
    assert "丙店 Shop C" not in page_of(admin.get("/admin/merchants?q=Shop B"))
    with write(db):
        db.delete(made)
    assert titles(client, "金耳钉") == []
    _index_matches_rows(db)


def _index_matches_rows(db: Session) -> None:
    """SQLite: every trigram table agrees with the rows it indexes (FTS5's own check)."""
    if db.get_bind().dialect.name != "sqlite":
        return
    for table in ("listings", "merchants", "users"):
        fts = f"{table}_search"
        db.execute(text(f"INSERT INTO {fts}({fts}) VALUES('integrity-check')"))
        stored = db.execute(text(f"SELECT count(*) FROM {fts}")).scalar_one()
        rows = db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        assert stored == rows


def test_intake_counts_the_items_still_expected_of_each_consignment(
    app: Flask, db: Session, world: World, flow: Flow
) -> None:
    spec = {"listing_id": world.listing_gold.id, "mass_g": "5.02"}
    three = create_consignment(session=db, actor=world["merchant1"], items=[spec] * 3, now=utcnow())
    flow.receive(consignment_items(session=db, consignment=three)[0])
    done = flow.declare()
    flow.receive(done)  # its consignment expects nothing more
    page = page_of(signed_in(app, "inspector1").get("/intake"))
    row = page[page.index(three.code) :].split("</tr>")[0]
    assert row.endswith("<td>2</td>")
    finished = db.get(Consignment, done.consignment_id)
    assert finished is not None and finished.code not in page


# -- migration 0021 ---------------------------------------------------------------------------


def _search_objects(engine: Any) -> set[str]:
    """What 0021 makes: trigram tables (SQLite) or indexes (PostgreSQL), prefix b-trees
    (PostgreSQL) and the intake page's index."""
    tables = {t for t in inspect(engine).get_table_names() if t.endswith("_search")}
    indexes = {i["name"] for t in ("listings", "items") for i in inspect(engine).get_indexes(t)}
    made = {"ix_items_state_consignment_id"}
    return tables | {i for i in indexes if i and ("trgm" in i or "prefix" in i or i in made)}


def test_migration_down_and_up_builds_the_index_from_existing_rows(
    app: Flask, db: Session, world: World
) -> None:
    listings(db, world, ["翡翠平安扣 老坑"])
    db.close()
    engine = engine_of(app)
    built = _search_objects(engine)
    assert "ix_items_state_consignment_id" in built
    downgrade(engine, "0020")
    assert _search_objects(engine) == set()
    upgrade(engine)
    assert _search_objects(engine) == built
    assert titles(signed_in(app, "merchant1"), "平安扣") == ["翡翠平安扣 老坑"]
    with Session(engine) as fresh:
        _index_matches_rows(fresh)
