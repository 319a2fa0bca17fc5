from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from qc_app.inspection.workflow import InspectionState
from qc_app.rules.engine import PartRecord, ReasonRecord, load_ruleset
from qc_app.rules.grading import GradingRecord
from qc_app.sqltypes import JSONText, UTCDateTime


def _every_family() -> list[str]:
    return sorted(load_ruleset().families)


# The testing body's Chinese name runs round the certificate's seal, each character its own
# arc: at 30 it is printed at 5.25 pt, the smallest that still reads (4.75 pt at 33, 4 pt at
# 40: strokes merge; tests/unit/test_pdf_layout.py renders the longest).
SEAL_NAME_MAX_CHARS = 30


class TestingBody(SQLModel, table=True):
    """Table: an accredited lab (CMA, optional CNAS) with its certificate-number prefix."""

    __tablename__ = "testing_bodies"
    __test__ = False  # not a pytest class
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=120)
    cma_no: str = Field(max_length=40)
    cnas_no: str | None = Field(default=None, max_length=40)
    cert_prefix: str = Field(max_length=6, unique=True)
    accredited_from: date | None = None
    accredited_until: date
    # The material families (rules data) the CMA scope covers.
    scope: list[str] = Field(
        default_factory=_every_family, sa_column=Column(JSONText(), nullable=False)
    )

    def accredited_on(self, day: date) -> bool:
        return (self.accredited_from or day) <= day <= self.accredited_until


class Inspection(SQLModel, table=True):
    """Table: one measurement session of an item and its verdict; retests add rows."""

    __tablename__ = "inspections"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    testing_body_id: int = Field(foreign_key="testing_bodies.id")
    analyst_id: int = Field(foreign_key="users.id")
    family: str = Field(max_length=24)
    # {field: value} as the analyst entered it; decimals as exact strings.
    measurements: dict[str, Any] = Field(sa_column=Column(JSONText(), nullable=False))
    material_code: str = Field(max_length=32)
    material_name_zh: str = Field(max_length=60)
    material_name_en: str = Field(max_length=80)
    verdict: str = Field(max_length=8)
    # In the rules' order (the order the pages list them in).
    reasons: list[ReasonRecord] = Field(sa_column=Column(JSONText(sort_keys=False), nullable=False))
    rule_version: str = Field(max_length=24)
    # A set piece: each component as measured and judged, in the declared order.
    parts: list[PartRecord] | None = Field(
        default=None, sa_column=Column(JSONText(sort_keys=False), nullable=True)
    )
    # GB/T 16554 grading of a loose diamond (a set stone's is in its part).
    grading: GradingRecord | None = Field(default=None, sa_column=Column(JSONText(), nullable=True))
    state: InspectionState = Field(sa_column=Column(String(16), nullable=False))
    reviewer_id: int | None = Field(default=None, foreign_key="users.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    review_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
