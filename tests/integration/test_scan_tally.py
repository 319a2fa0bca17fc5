"""Consumer scans tallied in the process and written together (verification/scans.Tally)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, col, create_engine, select

from qc_app.sqltypes import utcnow
from qc_app.verification.scans import ScanHour, Tally, hour_of

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def written(db: Session) -> dict[int, int]:
    db.rollback()  # a fresh snapshot: the tally writes on its own connection
    rows = db.exec(select(ScanHour).order_by(col(ScanHour.certificate_id)))
    return {row.certificate_id: row.n for row in rows}


def test_pending_scans_are_written_together_and_summed(flow: Any, app: Any) -> None:
    (_, a), (_, b) = flow.certified(), flow.certified()
    a_id, b_id = a.certificate.id, b.certificate.id
    counter = app.extensions["qc_counter_engine"]
    hour = hour_of(utcnow())
    tally = Tally(every_s=3600)
    for cid in (a_id, a_id, b_id):
        tally.add(cid, hour)
    assert tally.pending(a_id, hour) == (2, 2)
    assert tally.pending(a_id, hour.replace(year=2020)) == (2, 0)
    assert tally.flush(counter) == 0 and written(flow.db) == {}  # not due yet
    assert tally.flush(counter, force=True) == 3
    assert written(flow.db) == {a_id: 2, b_id: 1}
    assert tally.pending(a_id, hour) == (0, 0)
    tally.add(a_id, hour)
    assert Tally(every_s=0).flush(counter) == 0  # nothing pending, nothing written
    assert tally.flush(counter, force=True) == 1
    assert written(flow.db) == {a_id: 3, b_id: 1}


def test_a_due_tally_is_written_by_the_next_flush(flow: Any, app: Any) -> None:
    _, issued = flow.certified()
    tally = Tally(every_s=0)
    tally.add(issued.certificate.id, hour_of(utcnow()))
    assert tally.flush(app.extensions["qc_counter_engine"]) == 1
    assert written(flow.db) == {issued.certificate.id: 1}


def test_a_failed_write_keeps_the_counts_for_the_next_flush(
    flow: Any, app: Any, tmp_path: Path
) -> None:
    _, issued = flow.certified()
    cid, hour = issued.certificate.id, hour_of(utcnow())
    tally = Tally(every_s=0)
    tally.add(cid, hour)
    tally.add(cid, hour)
    empty = create_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")
    assert tally.flush(empty) == 0  # no scan_hours table there: the write fails
    assert tally.pending(cid, hour) == (2, 2)
    assert tally.flush(app.extensions["qc_counter_engine"]) == 2
    assert written(flow.db) == {cid: 2}


def test_pages_of_one_process_count_exactly_before_the_tally_is_written(
    flow: Any, app: Any
) -> None:
    app.extensions["qc_scan_tally"] = tally = Tally(every_s=3600)  # as in production, but slower
    _, issued = flow.certified()
    url = urlsplit(issued.verify_url)
    client = app.test_client()
    for _ in range(2):
        page = client.get(f"{url.path}?{url.query}").get_data(as_text=True)
    assert "已被消费者查验 2 次" in page
    assert written(flow.db) == {}
    assert tally.flush(app.extensions["qc_counter_engine"], force=True) == 2
    assert written(flow.db) == {issued.certificate.id: 2}
    page = client.get(f"{url.path}?{url.query}").get_data(as_text=True)
    assert "已被消费者查验 3 次" in page
