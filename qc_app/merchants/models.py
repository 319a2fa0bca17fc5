from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import UTCDateTime


class Merchant(SQLModel, table=True):
    """Table: a shop on the platform."""

    __tablename__ = "merchants"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    licence_no: str = Field(max_length=40)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
