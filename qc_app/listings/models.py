"""Listing tables: the listing with its current labels, and when each label was on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import UTCDateTime, fen_column

# Optimistic lock: of two concurrent edits of one listing, the second fails with
# StaleDataError, which db.write turns into LostRace (409).
_listing_version = Column("version", Integer, nullable=False, server_default="1")


class Listing(SQLModel, table=True):
    """Table: a product listing; its declared material is what QC checks against."""

    __tablename__ = "listings"
    __mapper_args__ = {"version_id_col": _listing_version}
    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    title: str = Field(max_length=120)
    brand: str = Field(default="", max_length=60)
    material_code: str = Field(max_length=32)
    style: str = Field(default="", max_length=60)
    price_fen: int = Field(sa_column=fen_column())
    # The labels shown now; their history (for claims) is in LabelPeriod.
    label_authentic: bool = Field(default=False)  # 鉴定验真
    label_guarantee: bool = Field(default=False)  # 假一赔十
    # The guarantee programme the label names (programmes.services; default 假一赔十).
    programme_id: int = Field(foreign_key="programmes.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = Field(default=0, sa_column=_listing_version)


class LabelPeriod(SQLModel, table=True):
    """Table: when a label was on a listing; a claim asks whether the order fell inside one."""

    __tablename__ = "listing_label_periods"
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    label: str = Field(max_length=16)  # "authentic" | "guarantee"
    on_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    off_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
