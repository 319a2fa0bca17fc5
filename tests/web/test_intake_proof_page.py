"""Intake of a set piece through the terminal's page (issue 19): the page asks for each view of
the set and for the dimensions that identify a ring with stones; what was sent is stored."""

from __future__ import annotations

import io
from typing import Any

from sqlmodel import Session, select

from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item, Photo
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, proof_set
from tests.integration.test_set_piece_path import PIECE
from tests.web.test_warehouse_pages import form_tokens, inspector


def declared_ring(flow: Flow) -> Item:
    listing = create_listing(
        session=flow.db,
        actor=flow.world["merchant1"],
        title="18K金钻石红宝石戒指",
        brand="金福",
        material_code="AU750",
        price_fen=688000,
        now=utcnow(),
    )
    consignment = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": listing.id, "mass_g": "3.20", **PIECE}],
        now=utcnow(),
    )
    return consignment_items(session=flow.db, consignment=consignment)[0]


def photo_fields(views: dict[str, bytes]) -> dict[str, Any]:
    names = {"front": "photo", "back": "photo_back", "stamp": "photo_stamp"}
    return {names[v]: (io.BytesIO(data), f"{v}.jpg") for v, data in views.items() if v in names}


def test_the_page_asks_for_each_view_and_the_rings_dimensions(app: Any, flow: Flow) -> None:
    item = declared_ring(flow)
    page = inspector(app).get(f"/intake/{item.code}").get_data(as_text=True)
    for field in ("photo", "photo_back", "photo_stamp", "photo_detail"):
        assert f'name="{field}"' in page
    for field in ("dim_ring_size", "dim_stone_length_mm", "dim_stone_width_mm"):
        assert f'name="{field}"' in page
    assert "data-scan-sequence" in page and "戒圈（港号）" in page


def test_three_photos_and_the_dimensions_through_the_page(
    app: Any, db: Session, flow: Flow
) -> None:
    item = declared_ring(flow)
    client = inspector(app)
    url = f"/intake/{item.code}"
    views = proof_set()
    answer = client.post(
        url,
        data={
            **form_tokens(client, url),
            "mass_g": "3.21",
            "dim_ring_size": "14.5",
            "dim_stone_length_mm": "4.30",
            "dim_stone_width_mm": "4.25",
            **photo_fields(views),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    db.rollback()
    received = db.get_one(Item, item.id)
    assert received.state == "received"
    assert received.dimensions == {
        "ring_size": "14.5",
        "stone_length_mm": "4.3",
        "stone_width_mm": "4.25",
    }
    photos = db.exec(select(Photo).where(Photo.item_id == item.id).order_by(Photo.id)).all()
    assert [p.view for p in photos] == ["front", "back", "stamp"]


def test_a_missing_dimension_is_refused_on_the_page_and_nothing_is_received(
    app: Any, db: Session, flow: Flow
) -> None:
    item = declared_ring(flow)
    client = inspector(app)
    url = f"/intake/{item.code}"
    answer = client.post(
        url,
        data={
            **form_tokens(client, url),
            "mass_g": "3.21",
            "dim_ring_size": "14",
            **photo_fields(proof_set()),
        },
        content_type="multipart/form-data",
        headers={"Referer": f"http://localhost{url}"},
    )
    # The form comes back: the problem under the dimensions, what was typed still there.
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="dimensions.stone_length_mm-error"' in page and "请填写主石长" in page
    assert 'id="dimensions.stone_width_mm-error"' in page and "请填写主石宽" in page
    assert 'value="14"' in page and 'value="3.21"' in page
    db.rollback()
    assert db.get_one(Item, item.id).received_at is None
    assert db.exec(select(Photo)).all() == []
