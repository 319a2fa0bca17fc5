from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel

from qc_app.i18n import msg
from qc_app.orders.workflow import OrderState
from qc_app.sqltypes import UTCDateTime, fen_column, unique_index

# Optimistic lock: a concurrent change of the same row fails with StaleDataError (409).
_order_version = Column("version", Integer, nullable=False)


class Order(SQLModel, table=True):
    """Table: a consumer's order of one listing, fulfilled by one certified item."""

    __tablename__ = "orders"
    __mapper_args__ = {"version_id_col": _order_version}
    __table_args__ = (
        # A tamper-evident bag closes one parcel: its seal number is never used twice. NULLs
        # (orders not packed yet) are distinct on both SQLite and PostgreSQL.
        unique_index(
            "uq_orders_seal_no",
            "seal_no",
            refusal=msg("该封签号已用于另一个包裹"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=40, unique=True, index=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    price_paid_fen: int = Field(sa_column=fen_column())
    waybill_no: str = Field(max_length=40, unique=True, index=True)
    state: OrderState = Field(sa_column=Column(String(12), nullable=False))
    seal_no: str | None = Field(default=None, max_length=40)
    version: int = Field(default=0, sa_column=_order_version)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    packed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    shipped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    packed_mass_cg: int | None = None
    cancel_reason: str | None = Field(default=None, max_length=300)
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Claims (issue 5): the order's guarantee programme, named when it is placed (its own, or
    # its listing's then: programmes.services) and kept, and the moment it completed, which
    # opens the claim window.
    programme_id: int = Field(foreign_key="programmes.id")
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
