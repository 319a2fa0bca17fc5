"""CSV consignments: all rows or none; every bad row reported with its line number."""

from __future__ import annotations

import pytest
from sqlmodel import select

from qc_app.intake.models import Consignment
from qc_app.intake.services import CsvRejected, consignment_items, import_consignment_csv
from qc_app.items.models import Item
from qc_app.sqltypes import utcnow


def run(db, world, text, user="merchant1", encoding="utf-8"):
    return import_consignment_csv(
        session=db, actor=world[user], data=text.encode(encoding), now=utcnow()
    )


def test_good_csv_creates_every_item(db, world):
    gold = world.listing_gold.id
    consignment = run(
        db,
        world,
        "listing_id,declared_material,mass_g,price_yuan,description\n"
        f"{gold},,5.02,3280,戒指一\n"
        f"{gold},AU990,3.10,,戒指二\n",
    )
    items = consignment_items(session=db, consignment=consignment)
    assert [(i.declared_mass_cg, i.price_fen, i.description) for i in items] == [
        (502, 328000, "戒指一"),
        (310, world.listing_gold.price_fen, "戒指二"),
    ]


def test_gbk_file_from_excel_is_read(db, world):
    gold = world.listing_gold.id
    consignment = run(
        db, world, f"listing_id,mass_g,description\n{gold},5.02,足金戒指\n", encoding="gb18030"
    )
    assert consignment_items(session=db, consignment=consignment)[0].description == "足金戒指"


def test_bad_rows_are_all_reported_and_nothing_is_saved(db, world):
    gold, other = world.listing_gold.id, world.listing_b.id
    with pytest.raises(CsvRejected) as caught:
        run(
            db,
            world,
            "listing_id,declared_material,mass_g,price_yuan\n"
            f"{gold},,5.02,3280\n"  # 2: fine
            f"{other},,5.02,3280\n"  # 3: another merchant's listing
            f"{gold},XYZ,5.02,3280\n"  # 4: unknown material
            f"{gold},,-1,3280\n"  # 5: mass out of range
            "\n"  # 6: blank, skipped
            f"abc,,5.02,\n"  # 7: no listing has that number or title
            f"{gold},,5.021,\n"  # 8: three decimals
            f"{gold},,5.02\n",  # 9: wrong column count
        )
    lines = [line for line, _ in caught.value.rows]
    assert lines == [3, 4, 5, 7, 8, 9]
    reasons = {line: said.render("en") for line, said in caught.value.rows}
    assert "listing not found" in reasons[3] and "unknown material" in reasons[4]
    assert "listing not found" in reasons[7]
    assert db.exec(select(Consignment)).all() == [] and db.exec(select(Item)).all() == []


@pytest.mark.parametrize(
    "text", ["", "foo,bar\n1,2\n", "listing_id\n1\n", "listing_id,mass_g,mass_g\n1,2,3\n"]
)
def test_bad_header_is_line_one(db, world, text):
    with pytest.raises(CsvRejected) as caught:
        run(db, world, text)
    assert caught.value.rows[0][0] == 1


def test_header_only_has_no_rows(db, world):
    with pytest.raises(CsvRejected) as caught:
        run(db, world, "listing_id,mass_g\n")
    assert caught.value.rows[0][0] == 2


def test_a_file_holding_nul_is_refused_whole(db, world):
    gold = world.listing_gold.id
    with pytest.raises(CsvRejected) as caught:
        run(db, world, f"listing_id,mass_g,description\n{gold},5.02,戒指\x00一\n")
    assert [(line, said.render("zh"), said.render("en")) for line, said in caught.value.rows] == [
        (1, "文件含有空字符（NUL），不是文本 CSV", "the file holds NUL: not a text CSV")
    ]
    assert db.exec(select(Item)).all() == []
