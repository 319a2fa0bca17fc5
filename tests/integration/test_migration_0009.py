"""Migration 0009 on data written before it: every listing and order then names its programme."""

from __future__ import annotations

from sqlalchemy import TextClause, bindparam, text

from qc_app.db import make_engine
from qc_app.migrate import upgrade
from qc_app.sqltypes import UTCDateTime, utcnow


def at(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("t", type_=UTCDateTime()))


def test_listings_and_orders_written_before_name_their_programme(database_url: str) -> None:
    engine = make_engine(database_url)
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
