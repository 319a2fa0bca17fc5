"""The item tables: one physical piece and its photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel

from qc_app.items.workflow import ItemState
from qc_app.sqltypes import JSONText, UTCDateTime, fen_column

# Optimistic lock: a concurrent change of the same row fails with StaleDataError (409).
_item_version = Column("version", Integer, nullable=False)


class Item(SQLModel, table=True):
    """Table: one physical piece; its state changes only through workflow.MACHINE."""

    __tablename__ = "items"
    __mapper_args__ = {"version_id_col": _item_version}
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    consignment_id: int = Field(foreign_key="consignments.id", index=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    declared_material: str = Field(max_length=32)
    declared_mass_cg: int
    price_fen: int = Field(sa_column=fen_column())
    description: str = Field(default="", max_length=200)
    # A set piece (rules/pieces.py): its article type and declared components, in order;
    # None for an item of one material.
    article_type: str | None = Field(default=None, max_length=16)
    components: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSONText(sort_keys=False), nullable=True)
    )
    # Proof of this very piece (items/proof.py): the dimensions measured at intake, as exact
    # text by key (ring_size, inner_diameter_mm …); None before intake or for older items.
    dimensions: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSONText(), nullable=True)
    )
    # Received without photos: why none could be taken, as the inspector recorded it
    # ({"reason": proof.no_photo_reasons code, "note": text}); None when photographed.
    no_photo: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSONText(), nullable=True)
    )
    state: ItemState = Field(sa_column=Column(String(24), nullable=False, index=True))
    held_from: str | None = Field(default=None, max_length=24)
    hold_reason: str | None = Field(default=None, max_length=200)
    received_mass_cg: int | None = None
    received_by_id: int | None = Field(default=None, foreign_key="users.id")
    received_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    # The waybill a failed item went back to its merchant under (return_shipped).
    return_waybill_no: str | None = Field(default=None, max_length=40)
    version: int = Field(default=0, sa_column=_item_version)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Photo(SQLModel, table=True):
    """Table: a re-encoded, metadata-free photo of an item, stored by its SHA-256."""

    __tablename__ = "photos"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    sha256: str = Field(max_length=64)
    original_sha256: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    # An intake photo's view (front, back, stamp, detail: items/proof.py); None for the
    # merchant's and the packing photos, and for intake photos taken before the views.
    view: str | None = Field(default=None, max_length=8)
    width: int
    height: int
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
