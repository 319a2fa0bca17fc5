"""The packing list names each row's listing (looked up for the whole consignment at once)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from qc_app.intake.services import create_consignment
from qc_app.labels.services import packing_list
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_packing_list_rows_carry_their_own_listing_titles(db, world):
    merchant = world["merchant1"]
    pendant = create_listing(
        session=db,
        actor=merchant,
        title="足金吊坠",
        brand="金福",
        material_code="AU990",
        price_fen=100000,
        now=utcnow(),
    )
    listings = [world.listing_gold, pendant, world.listing_gold]
    consignment = create_consignment(
        session=db,
        actor=merchant,
        items=[{"listing_id": x.id, "mass_g": "5.02"} for x in listings],
        now=utcnow(),
    )
    packing = packing_list(session=db, actor=merchant, code=consignment.code, zone=SHANGHAI)
    assert [row.listing_title for row in packing.rows] == [x.title for x in listings]
    # Printed in China time (Config.TIMEZONE), stored in UTC.
    assert packing.created == f"{consignment.created_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
