"""Migration 0012 on data written before it: an item returned to its merchant gets its return
waybill from its audit event, and the downgrade takes the column away again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from qc_app.db import engine_of
from qc_app.items.services import return_shipped
from qc_app.migrate import downgrade, upgrade
from qc_app.sqltypes import utcnow


def returned_item(flow: Any, waybill_no: str) -> str:
    item = flow.declare()
    flow.receive(item)
    flow.approve(flow.inspect(item, fineness="750.0"))
    return_shipped(
        session=flow.db,
        actor=flow.world["inspector1"],
        code=item.code,
        waybill_no=waybill_no,
        now=utcnow(),
    )
    return str(item.code)


def item_columns(engine: Any) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("items")}


def test_upgrade_fills_the_column_from_the_audit_event_and_downgrade_drops_it(flow: Any) -> None:
    code = returned_item(flow, " SF1234567890 ")
    waiting = flow.declare()
    flow.db.close()
    engine = engine_of(flow.app)

    downgrade(engine, "0011")
    assert "return_waybill_no" not in item_columns(engine)
    upgrade(engine)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT code, return_waybill_no FROM items")).all())
    assert stored == {code: "SF1234567890", waiting.code: None}


def test_the_service_writes_the_column_and_the_api_reads_it(flow: Any, token: Any) -> None:
    code = returned_item(flow, "SF42")
    query = text("SELECT return_waybill_no FROM items WHERE code = :c")
    found = flow.db.execute(query, {"c": code})
    assert found.scalar_one() == "SF42"
    shown = flow.app.test_client().get(f"/api/v1/items/{code}", headers=token("merchant1"))
    assert shown.status_code == 200 and shown.get_json()["return_waybill_no"] == "SF42"
