"""Rows every seeded benchmark database needs before its bulk rows: one testing body and one
signing key (placeholders: the benchmarks that read these never verify with them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Connection

from qc_app.certificates.models import SigningKey
from qc_app.inspection.models import TestingBody


def insert_body_and_key(c: Connection, now: datetime) -> None:
    c.execute(
        TestingBody.__table__.insert(),  # type: ignore[attr-defined]
        [
            {
                "id": 1,
                "code": "GTC",
                "name_zh": "x",
                "name_en": "x",
                "cma_no": "c",
                "cnas_no": None,
                "cert_prefix": "GTC",
                "accredited_until": date(2099, 1, 1),
            }
        ],
    )
    c.execute(
        SigningKey.__table__.insert(),  # type: ignore[attr-defined]
        [
            {
                "kid": "k1",
                "public_key": "p",
                "private_key_pem": "x",
                "not_before": now,
                "not_after": None,
            }
        ],
    )
