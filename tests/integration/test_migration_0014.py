"""Migration 0014 on a chain written before it: every event becomes the link of its number with
its hash unchanged, so checkpoints signed before still verify; the downgrade numbers a chain
the sequencer wrote out of id order as the old code would have, and hashes it as it did."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlmodel import col, select

from qc_app import audit
from qc_app.audit import AuditEvent, AuditLink
from qc_app.db import engine_of, new_session
from qc_app.migrate import downgrade, upgrade
from tests.audit_support import append, numbered


def links(app: Flask) -> list[tuple[int, int, str, str]]:
    with new_session(engine_of(app)) as session:
        rows = session.exec(select(AuditLink).order_by(col(AuditLink.seq))).all()
        return [(r.seq, r.event_id, r.prev_hash, r.hash) for r in rows]


def audit_cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", "audit", *args])


def test_old_events_become_links_and_old_checkpoints_still_verify(
    app: Flask, flow: Any, tmp_path: Path
) -> None:
    flow.receive(flow.declare())
    flow.declare()
    exported = tmp_path / "checkpoints.jsonl"
    assert audit_cli(app, "checkpoint", "--out", str(exported)).exit_code == 0
    chained = links(app)
    flow.db.close()
    engine = engine_of(app)

    downgrade(engine, "0013")
    with engine.connect() as conn:
        old = conn.execute(text("SELECT seq, seq, prev_hash, hash FROM audit_events ORDER BY seq"))
        assert [tuple(row) for row in old] == chained
    upgrade(engine)
    assert links(app) == chained
    verified = audit_cli(app, "verify", "--checkpoints", str(exported))
    assert verified.exit_code == 0 and "1 signed checkpoints agree" in verified.output
    with new_session(engine) as session:
        later = append(session, "after the upgrade")
    assert later == chained[-1][1] + 1  # the id sequence counts on from the last event


def test_downgrade_renumbers_a_chain_out_of_id_order_as_the_old_code_numbered(
    app: Flask, flow: Any
) -> None:
    first = append(flow.db, "a")
    numbered(flow.db, first + 2, "c")
    audit.sequence(flow.db)
    numbered(flow.db, first + 1, "b")  # committed after "c" was chained
    audit.sequence(flow.db)
    append(flow.db, "d")  # still queued
    flow.db.close()
    engine = engine_of(app)

    downgrade(engine, "0013")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, entity_id, prev_hash, hash FROM audit_events ORDER BY seq")
        ).all()
    assert [row.entity_id for row in rows][-4:] == ["a", "c", "b", "d"]
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert all(row.prev_hash == before.hash for before, row in pairwise(rows))
    upgrade(engine)
    with new_session(engine) as session:
        report = audit.verify_chain(session)
        events = session.exec(select(AuditEvent.id)).all()
    assert (report.ok, report.events, report.pending) == (True, len(rows), 0)
    assert sorted(events) == list(range(1, len(rows) + 1))
