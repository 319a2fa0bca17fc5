from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from qc_app.i18n import msg
from qc_app.sqltypes import UTCDateTime, fen_column, unique_index


class ClaimReason(StrEnum):
    BRAND = "brand"
    MATERIAL = "material"
    # Never covered: answered with an explanation instead of a claim.
    WEIGHT = "weight"
    ORIGIN = "origin"
    VARIETY = "variety"
    SKIN = "skin"


class RejectionGround(StrEnum):
    BRAND_OWNER = "brand_owner"
    ITEM_SWAPPED = "item_swapped"
    NOT_CONSUMER = "not_consumer"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


# Optimistic lock: two admins deciding at once → one StaleDataError (409), never two payouts.
_claim_version = Column("version", Integer, nullable=False)
# The claim states that hold the order: open (filed … re-inspection) or upheld (paid out).
# claims.services.ACTIVE names the same states; a test keeps the two equal.
ACTIVE_STATES_SQL = "state IN ('filed', 'accepted', 'disputed', 'reinspection', 'upheld')"
# One refusal for both indexes below: SQLite names the columns a unique index refused, not the
# index, and both are on order_id.
ONE_CLAIM = msg("该订单已有处理中或已成立的理赔（每笔订单最多赔付一次）")


class Claim(SQLModel, table=True):
    """Table: a consumer's claim on one order; state changes only through claims.workflow."""

    __tablename__ = "claims"
    __mapper_args__ = {"version_id_col": _claim_version}
    __table_args__ = (
        # 假一赔十 is paid once per order: the database refuses a second open or upheld claim,
        # and a second payout, whatever a request checked before (partial indexes: SQLite, PG).
        unique_index(
            "uq_claims_order_active", "order_id", refusal=ONE_CLAIM, where=ACTIVE_STATES_SQL
        ),
        unique_index(
            "uq_claims_order_payout", "order_id", refusal=ONE_CLAIM, where="payout_fen IS NOT NULL"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, index=True)
    secret_hash: str = Field(max_length=64)  # sha256 of the follow-up secret shown once
    order_id: int = Field(foreign_key="orders.id", index=True)
    certificate_id: int = Field(foreign_key="certificates.id", index=True)
    merchant_id: int = Field(foreign_key="merchants.id", index=True)
    programme_id: int = Field(foreign_key="programmes.id")
    reason: ClaimReason = Field(sa_column=Column(String(16), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    postage_fen: int = Field(default=0, sa_column=fen_column())
    state: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    merchant_note: str | None = Field(default=None, sa_column=Column(Text))
    decision_note: str | None = Field(default=None, sa_column=Column(Text))
    rejection_ground: str | None = Field(default=None, max_length=24)
    # Payout, integer fen: refund + multiplier × price paid + postage.
    refund_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    compensation_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    payout_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    version: int = Field(default=0, sa_column=_claim_version)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Evidence(SQLModel, table=True):
    """Table: one evidence file (re-encoded image or checked PDF), stored by SHA-256."""

    __tablename__ = "claim_evidence"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    party: str = Field(max_length=12)  # consumer / merchant
    kind: str = Field(max_length=8)  # jpg / pdf
    sha256: str = Field(max_length=64)
    original_sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
