"""How long the dashboard's aggregates take with many items: prints figures, asserts nothing.

    .venv/bin/python bench/dashboard.py [ITEMS] [DATABASE_URL]

Without a URL it builds a throwaway SQLite file. Rows are inserted with SQL core (fast), then
stats.overview() runs 5 times; best and worst are printed.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seed_rows import insert_body_and_key
from sqlalchemy import select, text

from qc_app.auth.models import User
from qc_app.certificates.models import Certificate
from qc_app.dashboard import stats
from qc_app.db import make_engine, new_session
from qc_app.inspection.models import Inspection
from qc_app.intake.models import Consignment
from qc_app.items.models import Item
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.migrate import upgrade
from qc_app.programmes.models import Programme

STATES = [
    "declared",
    "received",
    "in_inspection",
    "review",
    "certified",
    "packed",
    "shipped",
    "return_to_merchant",
    "returned",
    "on_hold",
]
MATERIALS = ["AU990", "AU750", "JADEITE", "NEPHRITE", "DIAMOND", "PEARL"]


def build(url: str, n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    rnd = random.Random(7)
    with engine.begin() as c:
        c.execute(
            Merchant.__table__.insert(),
            [
                {"id": m, "name": f"shop {m}", "licence_no": f"L{m}", "created_at": now}
                for m in range(1, 51)
            ],
        )
        c.execute(
            User.__table__.insert(),
            [
                {
                    "id": 1,
                    "username": "u",
                    "display_name": "u",
                    "password_hash": "x",
                    "role": "inspector",
                    "merchant_id": None,
                    "testing_body_id": None,
                    "active": True,
                    "created_at": now,
                }
            ],
        )
        insert_body_and_key(c, now)
        default_programme = c.execute(
            select(Programme.id).where(Programme.code == "JYPS")
        ).scalar_one()
        c.execute(
            Listing.__table__.insert(),
            [
                {
                    "id": m,
                    "merchant_id": m,
                    "title": "t",
                    "brand": "b",
                    "material_code": "AU990",
                    "style": "",
                    "price_fen": 100,
                    "programme_id": default_programme,
                    "created_at": now,
                }
                for m in range(1, 51)
            ],
        )
        c.execute(
            Consignment.__table__.insert(),
            [
                {
                    "id": i,
                    "code": f"SJ{i:08d}",
                    "merchant_id": i % 50 + 1,
                    "created_by_id": 1,
                    "created_at": now,
                }
                for i in range(1, n // 10 + 2)
            ],
        )
        items, inspections, certificates = [], [], []
        for i in range(1, n + 1):
            state = rnd.choice(STATES)
            received = now - timedelta(days=rnd.randint(0, 60), minutes=rnd.randint(0, 1440))
            items.append(
                {
                    "id": i,
                    "code": f"QC{i:010d}",
                    "consignment_id": i // 10 + 1,
                    "merchant_id": (i // 10) % 50 + 1,
                    "listing_id": (i // 10) % 50 + 1,
                    "declared_material": rnd.choice(MATERIALS),
                    "declared_mass_cg": 502,
                    "price_fen": 100,
                    "description": "",
                    "state": state,
                    "held_from": None,
                    "hold_reason": None,
                    "received_mass_cg": 503,
                    "received_by_id": 1 if state != "declared" else None,
                    "received_at": received if state != "declared" else None,
                    "order_id": None,
                    "version": 1,
                    "created_at": now,
                }
            )
            if state in ("certified", "packed", "shipped", "return_to_merchant", "returned"):
                verdict = "fail" if state in ("return_to_merchant", "returned") else "pass"
                inspections.append(
                    {
                        "id": i,
                        "item_id": i,
                        "testing_body_id": 1,
                        "analyst_id": 1,
                        "family": "metal",
                        "measurements": "{}",
                        "material_code": "AU990",
                        "material_name_zh": "足金",
                        "material_name_en": "gold",
                        "verdict": verdict,
                        "reasons": "[]",
                        "rule_version": "r",
                        "state": "approved",
                        "reviewer_id": 1,
                        "reviewed_at": received,
                        "review_note": None,
                        "created_at": received,
                    }
                )
                if verdict == "pass":
                    certificates.append(
                        {
                            "id": i,
                            "number": f"GTC-{i:013d}",
                            "item_id": i,
                            "inspection_id": i,
                            "check_code_hash": "h",
                            "payload": "{}",
                            "signature": "s",
                            "url_signature": "s",
                            "kid": "k1",
                            "issued_at": received + timedelta(hours=rnd.uniform(2, 96)),
                            "issued_by_id": 1,
                            "status": "valid",
                            "revoked_at": None,
                            "revoke_reason": None,
                            "pdf_sha256": "x",
                        }
                    )
        c.execute(Item.__table__.insert(), items)
        c.execute(Inspection.__table__.insert(), inspections)
        c.execute(Certificate.__table__.insert(), certificates)
        c.execute(text("ANALYZE"))
    session = new_session(engine)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        view = stats.overview(session, today=now.date())
        runs.append(time.perf_counter() - start)
        session.rollback()
    print(
        f"{engine.dialect.name}: {n} items, {len(certificates)} certificates: overview "
        f"best {min(runs) * 1000:.0f} ms, worst {max(runs) * 1000:.0f} ms; "
        f"p50 {view.turnaround.p50_hours} h, p90 {view.turnaround.p90_hours} h"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if len(sys.argv) > 2:
        build(sys.argv[2], count)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            build(f"sqlite:///{Path(tmp) / 'bench.db'}", count)
