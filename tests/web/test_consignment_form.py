"""The merchant's new-consignment form (issue 18): every bad field of every row named next to
it with what was typed kept and nothing stored; rows added without a script; many rows at once;
one list of the shop's listings for all rows."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.intake.models import Consignment
from qc_app.items.models import Item
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow
from tests.conftest import World
from tests.web.helpers import login, post_form


def merchant(app: Any) -> Any:
    web = app.test_client()
    login(web, "merchant1")
    return web


def send(web: Any, rows: dict[int, dict[str, str]], **extra: str) -> Any:
    form = {f"rows-{n}-{field}": value for n, row in rows.items() for field, value in row.items()}
    return post_form(web, "/m/consignments", "/m/consignments/new", {**form, **extra})


def count(db: Any, table: Any) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(table)).one())


def value_of(page: str, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', page)
    return found.group(1) if found else None


def test_two_bad_rows_are_both_named_by_their_fields_and_nothing_is_stored(
    app: Any, db: Any, world: World
) -> None:
    gold = str(world.listing_gold.id)
    refused = send(
        merchant(app),
        {
            1: {"listing_id": gold, "mass_g": "5.02", "description": "第一只戒指"},
            2: {"listing_id": gold, "mass_g": "abc", "price_yuan": "1999.50"},
            3: {"listing_id": str(world.listing_b.id), "mass_g": "3.10", "order_no": "DY-9"},
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="rows-2-mass_g-error"' in page and 'id="rows-3-listing_id-error"' in page
    assert "商品不存在" in page and "rows-1-" + "mass_g-error" not in page
    assert [value_of(page, f"rows-{n}-mass_g") for n in (1, 2, 3)] == ["5.02", "abc", "3.10"]
    assert value_of(page, "rows-1-description") == "第一只戒指"
    assert value_of(page, "rows-2-price_yuan") == "1999.50"
    assert value_of(page, "rows-3-order_no") == "DY-9"
    assert count(db, Item) == 0 and count(db, Consignment) == 0


def test_every_bad_field_of_one_row_is_named(app: Any, db: Any, world: World) -> None:
    refused = send(
        merchant(app),
        {1: {"listing_id": "", "mass_g": "-1", "price_yuan": "x", "article_type": "spaceship"}},
    )
    page = refused.get_data(as_text=True)
    for field in ("listing_id", "mass_g", "price_fen", "article_type"):
        assert f'id="rows-1-{field}-error"' in page, field
    assert "请选择商品" in page
    assert count(db, Item) == 0


def test_blank_rows_between_are_dropped_and_the_rest_numbered_again(
    app: Any, db: Any, world: World
) -> None:
    gold = str(world.listing_gold.id)
    refused = send(
        merchant(app),
        {1: {"listing_id": gold, "mass_g": "5"}, 2: {"mass_g": ""}, 3: {"listing_id": gold}},
    )
    page = refused.get_data(as_text=True)
    assert 'id="rows-2-mass_g-error"' in page  # the third row typed is the second sent
    assert page.count("data-row>") == 2


def test_add_row_without_a_script_keeps_every_typed_value_and_adds_one(
    app: Any, db: Any, world: World
) -> None:
    gold = str(world.listing_gold.id)
    answer = send(
        merchant(app),
        {
            1: {"listing_id": gold, "mass_g": "5.02", "order_no": "DY-1"},
            2: {"listing_id": "", "mass_g": ""},
            3: {"listing_id": gold, "declared_material": "AU750", "components": ""},
        },
        add_row="1",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert page.count("data-row>") == 4
    assert value_of(page, "rows-1-order_no") == "DY-1"
    assert value_of(page, "rows-3-listing_id") == gold
    assert re.search(r'name="rows-3-declared_material".*?value="AU750" selected', page, re.S)
    assert value_of(page, "rows-4-listing_id") == ""
    assert "field-error" not in page and count(db, Item) == 0


def test_twelve_rows_are_stored_in_one_go(app: Any, db: Any, world: World) -> None:
    gold = world.listing_gold
    rows = {n: {"listing_id": f"#{gold.id} {gold.title}", "mass_g": f"{n}.5"} for n in range(1, 13)}
    answer = send(merchant(app), rows)
    assert answer.status_code == 302
    assert count(db, Consignment) == 1
    items = db.exec(select(Item).order_by(Item.id)).all()
    assert [i.declared_mass_cg for i in items] == [n * 100 + 50 for n in range(1, 13)]
    declared = db.exec(select(AuditEvent).where(AuditEvent.action == "declare")).all()
    assert len(declared) == 12


def test_a_listing_is_found_by_its_id_or_its_title(app: Any, db: Any, world: World) -> None:
    gold = world.listing_gold
    answer = send(
        merchant(app),
        {
            1: {"listing_id": str(gold.id), "mass_g": "1"},
            2: {"listing_id": gold.title, "mass_g": "2"},
        },
    )
    assert answer.status_code == 302
    db.rollback()
    assert {i.listing_id for i in db.exec(select(Item)).all()} == {gold.id}


def test_two_listings_of_one_title_ask_for_the_number(app: Any, db: Any, world: World) -> None:
    create_listing(
        session=db,
        actor=world["merchant1"],
        title=world.listing_gold.title,
        brand="金福",
        material_code="AU990",
        price_fen=100,
        now=utcnow(),
    )
    refused = send(merchant(app), {1: {"listing_id": world.listing_gold.title, "mass_g": "1"}})
    assert refused.status_code == 422
    assert "请从列表中选择" in refused.get_data(as_text=True)


def test_one_list_of_listings_serves_every_row(app: Any, db: Any, world: World) -> None:
    for n in range(30):
        create_listing(
            session=db,
            actor=world["merchant1"],
            title=f"足金吊坠 {n}",
            brand="金福",
            material_code="AU990",
            price_fen=100,
            now=utcnow(),
        )
    page = merchant(app).get("/m/consignments").get_data(as_text=True)
    assert page.count("<datalist") == 1
    assert page.count('<option value="#') == 31
    assert page.count('list="listing-choices"') == page.count("data-row>") == 3
