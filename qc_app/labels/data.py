"""What a label or packing list prints, as plain data (built by the views from domain rows)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemLabel:
    item_code: str  # printed, in the QR and in the Code128: what the warehouse scanner reads
    material_code: str
    material_zh: str
    consignment_code: str
    merchant: str


@dataclass(frozen=True)
class PackingRow:
    item_code: str
    listing_title: str
    material_zh: str
    material_code: str
    mass_g: str
    price_yuan: str
    description: str


@dataclass(frozen=True)
class PackingList:
    consignment_code: str
    merchant: str
    created: str  # "2026-11-22 03:10 UTC"
    rows: tuple[PackingRow, ...]


# Label stock: name → (width mm, height mm). "a4" is a sheet of 60×40 labels.
SIZES = {"60x40": (60.0, 40.0), "50x30": (50.0, 30.0)}
SHEET_SIZES = (*SIZES, "a4")
