"""Migration 0009 on data written before it: every listing and order then names its programme,
and stored check-code digests are re-keyed without anyone knowing the codes."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import TextClause, bindparam, text

from qc_app.codes import check_code_matches, normalize_check_code
from qc_app.db import make_engine, write
from qc_app.migrate import upgrade
from qc_app.sqltypes import UTCDateTime, utcnow

VERSIONS = Path(__file__).resolve().parents[2] / "qc_app" / "migrations" / "versions"


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("m0009", VERSIONS / "0009_consumer_ownership.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def at(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("t", type_=UTCDateTime()))


def test_listings_and_orders_written_before_name_their_programme(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0007")
        now = utcnow()
        with engine.begin() as conn:
            ids = dict(conn.execute(text("SELECT code, id FROM programmes")).all())
            conn.execute(
                at(
                    "INSERT INTO merchants (id, name, licence_no, created_at)"
                    " VALUES (1, 'm', 'L', :t)"
                ),
                {"t": now},
            )
            for listing, programme in ((1, None), (2, ids["AXG"])):
                conn.execute(
                    at(
                        "INSERT INTO listings (id, merchant_id, title, brand, material_code, style,"
                        " price_fen, label_authentic, label_guarantee, programme_id, created_at)"
                        " VALUES (:i, 1, 't', '', 'AU990', '', 100, false, false, :p, :t)"
                    ),
                    {"i": listing, "p": programme, "t": now},
                )
            for order, listing, programme in ((1, 1, None), (2, 2, None), (3, 2, ids["KS_XRG"])):
                conn.execute(
                    at(
                        "INSERT INTO orders (id, order_no, merchant_id, listing_id, price_paid_fen,"
                        " waybill_no, state, version, created_at, programme_id)"
                        " VALUES (:i, :no, 1, :l, 100, :no, 'open', 0, :t, :p)"
                    ),
                    {
                        "i": order,
                        "no": f"O{order}",
                        "l": listing,
                        "p": programme,
                        "t": now,
                    },
                )
        upgrade(engine)
        with engine.connect() as conn:
            listings = dict(conn.execute(text("SELECT id, programme_id FROM listings")).all())
            orders = dict(conn.execute(text("SELECT id, programme_id FROM orders")).all())
        assert listings == {1: ids["JYPS"], 2: ids["AXG"]}
        # An order without one takes its listing's, as the claim did before; its own one stays.
        assert orders == {1: ids["JYPS"], 2: ids["AXG"], 3: ids["KS_XRG"]}
    finally:
        engine.dispose()


@pytest.mark.usefixtures("cjk_font_path")
def test_stored_digests_are_rekeyed_and_the_codes_still_match(flow: Any) -> None:
    """A certificate stored before 0009 held the bare SHA-256; after it, the keyed digest of
    that SHA-256, which the code as typed matches under the deployment's key."""
    _, issued = flow.certified()
    number, code = issued.certificate.number, issued.check_code
    bare = hashlib.sha256(f"qc-check-v1|{number}|{normalize_check_code(code)}".encode()).hexdigest()
    with write(flow.db):
        flow.db.execute(
            text("UPDATE certificates SET check_code_hash = :h WHERE number = :n"),
            {"h": bare, "n": number},
        )
    key = flow.app.config["QC"].CHECK_CODE_KEY
    with pytest.raises(RuntimeError, match="needs the deployment's key"):
        migration().rekey(flow.db.connection(), None)
    flow.db.rollback()
    with write(flow.db):
        assert migration().rekey(flow.db.connection(), key) == 1
    stored = flow.db.execute(
        text("SELECT check_code_hash FROM certificates WHERE number = :n"), {"n": number}
    ).scalar_one()
    assert stored != bare and check_code_matches(key, number, code, stored)
