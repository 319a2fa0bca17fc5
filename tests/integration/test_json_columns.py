"""JSON kept in text columns (sqltypes.JSONText): callers get lists and dicts, the stored text
is what the services wrote before the type existed, and rows written then read unchanged."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from qc_app.certificates import batches
from qc_app.certificates.models import IssuanceBatch
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.sqltypes import utcnow
from tests.conftest import Flow


def stored_text(db: Session, table: str, column: str, row_id: int | None) -> Any:
    query = text(f"SELECT {column} FROM {table} WHERE id = :id")
    return db.connection().execute(query, {"id": row_id}).scalar_one()


def overwrite(db: Session, table: str, column: str, row_id: int | None, value: str) -> None:
    query = text(f"UPDATE {table} SET {column} = :value WHERE id = :id")
    db.connection().execute(query, {"id": row_id, "value": value})
    db.commit()
    db.expire_all()


def test_inspection_text_is_what_the_services_wrote_before(flow: Flow) -> None:
    item = flow.declare()
    flow.receive(item)
    inspection = flow.inspect(item)
    measured = stored_text(flow.db, "inspections", "measurements", inspection.id)
    reasons = stored_text(flow.db, "inspections", "reasons", inspection.id)
    assert measured == json.dumps(inspection.measurements, sort_keys=True, ensure_ascii=False)
    assert reasons == json.dumps(inspection.reasons, ensure_ascii=False)
    assert inspection.measurements["mass_g"] == "5.03"


def test_inspection_rows_written_before_read_as_values(flow: Flow) -> None:
    item = flow.declare()
    flow.receive(item)
    row_id = flow.inspect(item).id
    old_reason = (
        '[{"code": "treatment_found", "zh": "检出处理", "en": "treated", "decisive": false}]'
    )
    overwrite(flow.db, "inspections", "measurements", row_id, '{"mass_g": "5.03", "metal": "Au"}')
    overwrite(flow.db, "inspections", "reasons", row_id, old_reason)
    found = flow.db.get(Inspection, row_id)
    assert found is not None
    assert found.measurements == {"mass_g": "5.03", "metal": "Au"}
    assert found.reasons == [
        {"code": "treatment_found", "zh": "检出处理", "en": "treated", "decisive": False}
    ]


def test_scope_written_with_escapes_reads_as_a_list(flow: Flow) -> None:
    lab = flow.world.lab
    assert stored_text(flow.db, "testing_bodies", "scope", lab.id) == json.dumps(lab.scope)
    overwrite(flow.db, "testing_bodies", "scope", lab.id, '["jade", "\\u91d1"]')
    found = flow.db.get(TestingBody, lab.id)
    assert found is not None and found.scope == ["jade", "金"]


def test_batch_failures_keep_their_order_and_their_text(flow: Flow) -> None:
    items = flow.approved(3)
    actor = flow.world["inspector1"]
    batch = batches.start_batch(
        session=flow.db, actor=actor, codes=[i.code for i in items], now=utcnow()
    )
    assert stored_text(flow.db, "issuance_batches", "item_codes", batch.id) == json.dumps(
        [i.code for i in items]
    )
    for code in (items[2].code, items[0].code):
        batches._record_failure(flow.db, actor, batch, code, OSError("disk full"), utcnow())
    found = flow.db.get(IssuanceBatch, batch.id)
    assert found is not None
    assert list(found.failures) == [items[2].code, items[0].code]
    assert stored_text(flow.db, "issuance_batches", "failures", batch.id) == json.dumps(
        found.failures, ensure_ascii=False
    )
