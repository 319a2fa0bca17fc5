"""Three set pieces as a shop declares them and the lab reads them (issue 19): a 足金 pendant
with a jadeite cabochon, a 108-bead nephrite string, an 18K ring with a graded diamond."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item
from qc_app.listings.services import create_listing
from qc_app.sqltypes import utcnow
from tests.conftest import Flow


@dataclass(frozen=True)
class Piece:
    title: str
    material: str  # the listing's declared material (the metal, or the beads')
    article_type: str
    components: list[dict[str, Any]]
    declared_g: str
    measured_g: str
    dimensions: dict[str, str]
    typed: dict[str, str] = field(default_factory=dict)  # the lab form's fields, in page order
    named: str = ""  # the name the rules give it


PENDANT = Piece(
    title="足金镶翡翠吊坠",
    material="AU990",
    article_type="pendant",
    components=[{"material": "AU990", "stamp": "足金"}, {"material": "JADEITE", "count": 1}],
    declared_g="4.50",
    measured_g="4.51",
    dimensions={
        "length_mm": "28.0",
        "width_mm": "14.0",
        "stone_length_mm": "12.00",
        "stone_width_mm": "10.00",
    },
    typed={
        "mass_g": "4.51",
        "c1-metal": "Au",
        "c1-fineness_permille": "999.3",
        "c1-stamp": "足金",
        "c2-species": "jadeite",
        "c2-ri": "1.66",
        "c2-sg": "3.33",
        "c2-optic": "aggregate",
        "c2-count": "1",
    },
    named="足金镶翡翠吊坠",
)
BEADS = Piece(
    title="和田玉手串 108颗 8mm",
    material="NEPHRITE",
    article_type="bead_bracelet",
    components=[{"material": "NEPHRITE", "count": 108, "bead_diameter_mm": "8.0"}],
    declared_g="62.00",
    measured_g="62.04",
    dimensions={"bead_diameter_mm": "8.0"},
    typed={
        "mass_g": "62.04",
        "c1-species": "nephrite",
        "c1-ri": "1.62",
        "c1-sg": "2.95",
        "c1-optic": "aggregate",
        "c1-count": "108",
        "c1-bead_diameter_mm": "8.0",
    },
    named="和田玉手串",
)
RING = Piece(
    title="18K金钻石戒指",
    material="AU750",
    article_type="ring",
    components=[{"material": "AU750", "stamp": "18K"}, {"material": "DIAMOND", "count": 1}],
    declared_g="2.80",
    measured_g="2.81",
    dimensions={"ring_size": "13", "stone_length_mm": "5.20", "stone_width_mm": "5.20"},
    typed={
        "mass_g": "2.81",
        "c1-metal": "Au",
        "c1-fineness_permille": "751.2",
        "c1-stamp": "18K",
        "c2-growth": "natural",
        "c2-species": "diamond",
        "c2-count": "1",
        "c2-diamond_mass_g": "0.1020",
        "c2-colour_grade": "G",
        "c2-clarity_grade": "VS2",
        "c2-uv_fluorescence": "weak",
    },
    named="18K金钻石戒指",
)
PIECES = (PENDANT, BEADS, RING)


def received(flow: Flow, piece: Piece) -> Item:
    """The piece declared by merchant1 under its own listing and received with its photos."""
    merchant = flow.world["merchant1"]
    listing = create_listing(
        session=flow.db,
        actor=merchant,
        title=piece.title,
        brand="金福",
        material_code=piece.material,
        price_fen=388000,
        now=utcnow(),
    )
    spec = {
        "listing_id": listing.id,
        "mass_g": piece.declared_g,
        "article_type": piece.article_type,
        "components": piece.components,
    }
    consignment = create_consignment(session=flow.db, actor=merchant, items=[spec], now=utcnow())
    item = consignment_items(session=flow.db, consignment=consignment)[0]
    return flow.receive(item, mass_g=piece.measured_g, dimensions=piece.dimensions)


def as_api(piece: Piece) -> dict[str, Any]:
    """The lab form's fields as the API's body: the piece's own, then `components`."""
    own = {k: v for k, v in piece.typed.items() if not k.startswith("c")}
    parts: list[dict[str, Any]] = [{} for _ in piece.components]
    for name, value in piece.typed.items():
        if name.startswith("c") and "-" in name:
            index, key = name[1:].split("-", 1)
            parts[int(index) - 1][key] = value
    return {**own, "components": parts}
