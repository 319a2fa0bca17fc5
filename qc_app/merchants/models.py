"""Merchant tables: the shop with its standing, and its periods in the programme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import UTCDateTime


class Merchant(SQLModel, table=True):
    """Table: a shop on the platform, with what the programme's eligibility checks read."""

    __tablename__ = "merchants"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    licence_no: str = Field(max_length=40)
    # Set by the platform (admin) after checking the legal representative's identity.
    legal_rep_verified: bool = Field(default=False)
    # Main categories the shop sells in, comma-separated codes (see programme.CATEGORIES).
    categories: str = Field(default="", max_length=200)
    serious_violations: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Membership(SQLModel, table=True):
    """Table: one period in the 鉴定验真 / 假一赔十 programme, opened by signing the agreement.

    A period is never deleted: orders placed inside it keep the 假一赔十 obligation after leaving.
    """

    __tablename__ = "programme_memberships"
    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    agreement_version: str = Field(max_length=20)
    agreement_sha256: str = Field(max_length=64)
    signed_by_id: int = Field(foreign_key="users.id")
    signed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    left_by_id: int | None = Field(default=None, foreign_key="users.id")
    leave_reason: str = Field(default="", max_length=200)
