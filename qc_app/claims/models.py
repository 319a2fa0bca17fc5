from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from qc_app.i18n import Message, pmsg
from qc_app.programmes.coverage import ACTIVE_STATES_SQL, ONE_CLAIM
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


REASON_LABELS: Mapping[ClaimReason, Message] = {
    ClaimReason.BRAND: pmsg("claim reason", "品牌是假的"),
    ClaimReason.MATERIAL: pmsg("claim reason", "材质是假的（与证书定名不符）"),
    ClaimReason.WEIGHT: pmsg("claim reason", "克重不符"),
    ClaimReason.ORIGIN: pmsg("claim reason", "产地不符"),
    ClaimReason.VARIETY: pmsg("claim reason", "品种不符"),
    ClaimReason.SKIN: pmsg("claim reason", "皮色不符"),
}
GROUND_LABELS: Mapping[RejectionGround, Message] = {
    RejectionGround.BRAND_OWNER: pmsg("rejection ground", "申请人为品牌方"),
    RejectionGround.ITEM_SWAPPED: pmsg("rejection ground", "物品已被调换"),
    RejectionGround.NOT_CONSUMER: pmsg("rejection ground", "非消费者购买"),
    RejectionGround.INSUFFICIENT_EVIDENCE: pmsg("rejection ground", "证据不足"),
}

# Optimistic lock: two admins deciding at once → one StaleDataError (409), never two payouts.
_claim_version = Column("version", Integer, nullable=False)
# The claim states that hold the order (ACTIVE_STATES_SQL) and the one refusal for both
# indexes below (SQLite names the columns a unique index refused, not the index, and both are
# on order_id) are the programmes' rule "paid once per order": the consumer's page asks it too.


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


class Party(StrEnum):
    """Who handed in a piece of evidence."""

    CONSUMER = "consumer"
    MERCHANT = "merchant"


class Evidence(SQLModel, table=True):
    """Table: one evidence file (re-encoded image or checked PDF), stored by SHA-256."""

    __tablename__ = "claim_evidence"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    party: str = Field(max_length=12)  # Party
    kind: str = Field(max_length=8)  # jpg / pdf
    sha256: str = Field(max_length=64)
    original_sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
