"""Gather what a label or packing list prints: tenant-checked reads, no writes."""

from __future__ import annotations

from datetime import tzinfo

from sqlmodel import Session, col, select

from qc_app.auth.models import User
from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.intake import services as intake
from qc_app.intake.models import Consignment
from qc_app.items import services as items
from qc_app.items.models import Item
from qc_app.labels.data import SHEET_SIZES, SIZES, ItemLabel, PackingList, PackingRow
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.rules.engine import load_ruleset
from qc_app.units import cg_to_mass, format_fen, local_time


def check_size(size: str | None, *, sheet: bool = True) -> str:
    allowed = SHEET_SIZES if sheet else tuple(SIZES)
    chosen = size or "60x40"
    if chosen not in allowed:
        raise ValidationFailed(
            msg(
                "标签尺寸须为 {allowed_zh}",
                allowed_zh=" / ".join(allowed),
                allowed_en=", ".join(allowed),
            )
        )
    return chosen


def _label(session: Session, item: Item, consignment_code: str) -> ItemLabel:
    merchant = session.get(Merchant, item.merchant_id)
    spec = load_ruleset().declarations.get(item.declared_material, {})
    return ItemLabel(
        item_code=item.code,
        material_code=item.declared_material,
        material_zh=str(spec.get("name_zh", item.declared_material)),
        consignment_code=consignment_code,
        merchant=merchant.name if merchant else "",
    )


def item_label(*, session: Session, actor: User, code: str) -> ItemLabel:
    item = items.get_item(session=session, actor=actor, code=code)
    consignment = session.get(Consignment, item.consignment_id)
    return _label(session, item, consignment.code if consignment else "")


def consignment_labels(*, session: Session, actor: User, code: str) -> list[ItemLabel]:
    consignment = intake.get_consignment(session=session, actor=actor, code=code)
    items = intake.consignment_items(session=session, consignment=consignment)
    return [_label(session, item, consignment.code) for item in items]


def packing_list(*, session: Session, actor: User, code: str, zone: tzinfo) -> PackingList:
    """The consignment's packing list; its creation time is printed in `zone`."""
    consignment = intake.get_consignment(session=session, actor=actor, code=code)
    items = intake.consignment_items(session=session, consignment=consignment)
    merchant = session.get(Merchant, consignment.merchant_id)
    declarations = load_ruleset().declarations
    ids = {item.listing_id for item in items}
    titles = {
        listing.id: listing.title
        for listing in session.exec(select(Listing).where(col(Listing.id).in_(ids)))
    }
    rows = []
    for item in items:
        spec = declarations.get(item.declared_material, {})
        rows.append(
            PackingRow(
                item_code=item.code,
                listing_title=titles.get(item.listing_id, ""),
                material_zh=str(spec.get("name_zh", "")),
                material_code=item.declared_material,
                mass_g=str(cg_to_mass(item.declared_mass_cg)),
                price_yuan=format_fen(item.price_fen),
                description=item.description,
            )
        )
    return PackingList(
        consignment_code=consignment.code,
        merchant=merchant.name if merchant else "",
        created=local_time(consignment.created_at, zone),
        rows=tuple(rows),
    )
