"""How long each list page takes with 100,000 rows in its list: prints figures, asserts nothing.

    .venv/bin/python bench/list_pages.py [--rows N] [--runs R] [--database-url URL]

Without a URL it builds a throwaway SQLite file (WAL, as served). Rows go in with SQL core
(fast, not the services): N merchants, users, listings, consignments, certificates, orders and
claims, and N items in each work queue's state (declared, received, review, approved,
return_to_merchant). Each page is then fetched through the app (test client, signed in as the
role that works there): its first page, a filtered page, a search, and a deep page (the
cursor near the end of the list); p50 / p95 over R runs, and the machine's load average.
Target (issue 18): every page under 200 ms at 100,000 rows on SQLite.

/m/consignments carries the new-consignment form (its datalist names every listing of the
shop); --without-consignment-form measures the list alone.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seed_rows import insert_body_and_key
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from qc_app import create_app
from qc_app.auth.models import User, UserSession
from qc_app.certificates.models import Certificate
from qc_app.claims.models import Claim
from qc_app.config import Config
from qc_app.db import make_engine
from qc_app.inspection.models import Inspection
from qc_app.intake.models import Consignment
from qc_app.items.models import Item
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.migrate import upgrade
from qc_app.orders.models import Order
from qc_app.programmes.models import Programme

MATERIALS = ["AU990", "AU750", "JADEITE", "NEPHRITE", "DIAMOND", "PEARL"]
QUEUES = ["declared", "received", "review", "approved", "return_to_merchant"]
SHOPS = 50  # the shops the rows belong to (the merchant list itself has N)
BATCH = 20_000
NOW = datetime(2026, 11, 22, tzinfo=UTC)
STAFF = {"admin": 1, "inspector": 2, "analyst": 3, "reviewer": 4, "merchant": 5}


def _when(i: int, n: int) -> datetime:
    """Spread over 200 days, several rows per second sharing a timestamp."""
    return NOW - timedelta(seconds=(n - i) * 200 * 86400 // n)


def _insert(c: Connection, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            c.execute(table.insert(), batch)
            batch = []
    if batch:
        c.execute(table.insert(), batch)


def _shop(i: int) -> int:
    return i % SHOPS + 1


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as c:
        programme = c.execute(select(Programme.id).where(Programme.code == "JYPS")).scalar_one()
        _insert(
            c,
            Merchant.__table__,
            (
                {
                    "id": m,
                    "name": f"商家{m:06d}",
                    "licence_no": f"L{m:08d}",
                    "created_at": _when(m, n),
                }
                for m in range(1, n + 1)
            ),
        )
        staff = (
            {
                "id": uid,
                "username": f"{role}0",
                "role": role,
                "merchant_id": 1 if role == "merchant" else None,
            }
            for role, uid in STAFF.items()
        )
        others = (
            {"id": 100 + i, "username": f"user{i:06d}", "role": "merchant", "merchant_id": _shop(i)}
            for i in range(1, n + 1)
        )
        _insert(
            c,
            User.__table__,
            (
                u
                | {
                    "display_name": u["username"],
                    "password_hash": "x",
                    "testing_body_id": None,
                    "active": True,
                    "created_at": _when(u["id"], n + 100),
                }
                for gen in (staff, others)
                for u in gen
            ),
        )
        insert_body_and_key(c, NOW)
        _insert(
            c,
            Listing.__table__,
            (
                {
                    "id": i,
                    "merchant_id": _shop(i),
                    "title": f"足金手镯 {i:06d}",
                    "brand": "周大福",
                    "material_code": MATERIALS[i % 6],
                    "style": "",
                    "price_fen": 100_00,
                    "programme_id": programme,
                    "created_at": _when(i, n),
                }
                for i in range(1, n + 1)
            ),
        )
        _insert(
            c,
            Consignment.__table__,
            (
                {
                    "id": i,
                    "code": f"SJ{i:08d}",
                    "merchant_id": _shop(i),
                    "created_by_id": 5,
                    "created_at": _when(i, n),
                }
                for i in range(1, n + 1)
            ),
        )
        _insert(
            c,
            Item.__table__,
            (
                {
                    "id": q * n + i,
                    "code": f"QC{q * n + i:010d}",
                    "consignment_id": i,
                    "merchant_id": _shop(i),
                    "listing_id": i,
                    "declared_material": MATERIALS[i % 6],
                    "declared_mass_cg": 502,
                    "price_fen": 100,
                    "description": "",
                    "state": state,
                    "version": 1,
                    "created_at": _when(i, n),
                }
                for q, state in enumerate(QUEUES)
                for i in range(1, n + 1)
            ),
        )
        review = QUEUES.index("review") * n
        _insert(
            c,
            Inspection.__table__,
            (
                {
                    "id": i,
                    "item_id": review + i,
                    "testing_body_id": 1,
                    "analyst_id": 3,
                    "family": "metal",
                    "measurements": "{}",
                    "material_code": "AU990",
                    "material_name_zh": "足金",
                    "material_name_en": "gold",
                    "verdict": "pass",
                    "reasons": "[]",
                    "rule_version": "r",
                    "state": "submitted",
                    "created_at": _when(i, n),
                }
                for i in range(1, n + 1)
            ),
        )
        _insert(
            c,
            Certificate.__table__,
            (
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
                    "issued_at": _when(i, n),
                    "issued_by_id": 2,
                    "status": "valid" if i % 10 else "revoked",
                    "pdf_sha256": "x",
                    "version": 1,
                }
                for i in range(1, n + 1)
            ),
        )
        states = ["open", "packed", "shipped", "delivered", "cancelled"]
        _insert(
            c,
            Order.__table__,
            (
                {
                    "id": i,
                    "order_no": f"ORD{i:09d}",
                    "merchant_id": _shop(i),
                    "listing_id": i,
                    "price_paid_fen": 100_00,
                    "waybill_no": f"SF{i:010d}",
                    "state": states[i % 5],
                    "version": 1,
                    "created_at": _when(i, n),
                    "programme_id": programme,
                }
                for i in range(1, n + 1)
            ),
        )
        _insert(
            c,
            Claim.__table__,
            (
                {
                    "id": i,
                    "number": f"CL{i:010d}",
                    "secret_hash": "x",
                    "order_id": i,
                    "certificate_id": i,
                    "merchant_id": _shop(i),
                    "programme_id": programme,
                    "reason": "brand",
                    "description": "x",
                    "postage_fen": 0,
                    "state": ["filed", "accepted", "disputed"][i % 3],
                    "version": 1,
                    "created_at": _when(i, n),
                }
                for i in range(1, n + 1)
            ),
        )
        if engine.dialect.name == "postgresql":
            for table in (
                "merchants",
                "users",
                "listings",
                "consignments",
                "items",
                "orders",
                "claims",
                "certificates",
                "inspections",
            ):
                c.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        c.execute(text("ANALYZE"))
    engine.dispose()


def signed_in(app: Any, url: str, user_id: int) -> Any:
    """A test client holding a full session of the user (password and second factor taken)."""
    token = secrets.token_urlsafe(32)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            UserSession.__table__.insert(),
            [
                {
                    "id_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "user_id": user_id,
                    "created_at": datetime.now(UTC),
                    "last_seen_at": datetime.now(UTC),
                    "second_factor_at": datetime.now(UTC),
                }
            ],
        )
    engine.dispose()
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return client


def pages(n: int) -> list[tuple[str, str, dict[str, str]]]:
    """(role, path, {variant: query}) of every list page."""
    mid = (NOW - timedelta(days=30)).date().isoformat()

    def newest(filtered: str) -> dict[str, str]:
        deep = f"after={n // 50 + 1}"  # a cursor near the end: the oldest 2 % of rows follow
        return {"first": "", "filtered": filtered, "search": "q=000123", "deep": deep}

    def oldest(filtered: str, queue: str | None = None) -> dict[str, str]:
        base = QUEUES.index(queue) * n if queue else 0  # the queue's items' first id - 1
        deep = f"after={base + n - n // 50}"
        return {"first": "", "filtered": filtered, "search": "q=000123", "deep": deep}

    return [
        ("admin", "/admin/certificates", newest(f"state=revoked&material=AU750&from={mid}")),
        ("admin", "/admin/orders", newest(f"state=delivered&merchant=7&from={mid}")),
        ("admin", "/claims", newest(f"state=disputed&merchant=7&from={mid}")),
        ("admin", "/admin/listings", newest(f"material=JADEITE&merchant=7&from={mid}")),
        ("merchant", "/m/listings", newest(f"material=JADEITE&from={mid}")),
        ("merchant", "/m/consignments", newest(f"from={mid}")),
        ("admin", "/admin/merchants", newest(f"from={mid}")),
        ("admin", "/admin/users", newest(f"state=merchant&from={mid}")),
        ("inspector", "/intake", oldest(f"merchant=7&from={mid}")),
        ("inspector", "/certify", oldest(f"material=AU750&merchant=7&from={mid}", "approved")),
        (
            "inspector",
            "/returns",
            oldest(f"material=AU750&merchant=7&from={mid}", "return_to_merchant"),
        ),
        ("analyst", "/lab", oldest(f"state=received&material=AU750&from={mid}", "received")),
        ("reviewer", "/review", oldest(f"material=AU750&merchant=7&from={mid}")),
    ]


def run(url: str, n: int, runs: int, instance: Path, *, form: bool = True) -> None:
    config = Config.for_tests(instance, url, RATELIMIT_ENABLED=False)
    app = create_app(config)
    if not form:  # the list alone: the form offers no listing
        from qc_app.intake import views

        views.merchant_listings = lambda **_kw: []  # type: ignore[assignment]
    clients = {role: signed_in(app, url, uid) for role, uid in STAFF.items()}
    gc.freeze()  # as a gunicorn worker does once the app is loaded (scripts/gunicorn.conf.py)
    print(f"{make_engine(url).dialect.name}, {n:,} rows per list, {runs} runs; p50 / p95 ms")
    if not form:
        print("/m/consignments without the new-consignment form's listings")
    print(f"{'page':<22}" + "".join(f"{v:>16}" for v in ("first", "filtered", "search", "deep")))
    worst = 0.0
    for role, path, variants in pages(n):
        cells = []
        for query in variants.values():
            target = f"{path}?{query}" if query else path
            times = []
            for _ in range(runs + 1):
                start = time.perf_counter()
                response = clients[role].get(target)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code in (200, 302), (target, response.status_code)
            times = sorted(times[1:])  # the first run compiles the template
            p50 = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            worst = max(worst, p95)
            cells.append(f"{p50:7.1f} /{p95:6.1f}")
        print(f"{path:<22}" + "".join(f"{c:>16}" for c in cells))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"worst p95 {worst:.1f} ms; load average {load} ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database (default: throwaway SQLite)")
    parser.add_argument(
        "--without-consignment-form",
        action="store_true",
        help="measure /m/consignments without the listings its new-consignment form offers",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'lists.db'}"
        start = time.perf_counter()
        seed(url, args.rows)
        print(f"seeded in {time.perf_counter() - start:.0f} s")
        run(
            url,
            args.rows,
            args.runs,
            Path(tmp) / "instance",
            form=not args.without_consignment_form,
        )


if __name__ == "__main__":
    main()
