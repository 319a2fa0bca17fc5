"""The guarantee programme table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from qc_app.programmes.coverage import Terms
from qc_app.sqltypes import UTCDateTime

DEFAULT_PROGRAMME = "JYPS"  # 假一赔十


class Programme(SQLModel, table=True):
    """Table: one guarantee programme (假一赔十, 退一赔三, …) as data: multiplier, window, scope.

    An order placed between starts_at and ends_at (exclusive) is covered by it.
    """

    __tablename__ = "programmes"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name_zh: str = Field(max_length=60)
    name_en: str = Field(max_length=80)
    multiplier: int
    window_days: int
    scope: str = Field(max_length=120)  # comma-separated reasons covered: "brand,material"
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    def covers(self, reason: str) -> bool:
        return reason in self.scope.split(",")

    def terms(self) -> Terms:
        return Terms(
            code=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            multiplier=self.multiplier,
            window_days=self.window_days,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
        )
