from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import UTCDateTime


class Consignment(SQLModel, table=True):
    """Table: one shipment of items a merchant sends to the warehouse."""

    __tablename__ = "consignments"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
