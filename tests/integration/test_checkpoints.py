"""Signed audit checkpoints written by the worker (as it starts, hourly, and as it stops) into
the file store, and `audit verify` starting from the newest one: events after it are
recomputed, the link it signed must still hold its hash; --full recomputes from the first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session

from qc_app import audit, queue
from qc_app.db import engine_of, new_session
from qc_app.ops import checkpoints
from qc_app.sqltypes import utcnow
from tests.audit_support import append
from tests.conftest import Flow, stored_files
from tests.integration.test_audit import allow_tampering, edit_event, run_cli
from tests.queue_support import queue_settings, start_worker, stop, worker_env


def checkpoint_now(app: Flask) -> checkpoints.Written:
    with new_session(engine_of(app)) as session:
        return checkpoints.write(
            session=session,
            files=stored_files(app),
            passphrase=app.config["QC"].signing_passphrase(),
            now=utcnow(),
        )


def head(app: Flask) -> int:
    with new_session(engine_of(app)) as session:
        audit.sequence(session)
        return int(
            session.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_chain")).scalar_one()
        )


def stored_seqs(app: Flask) -> list[int]:
    return [int(Path(obj.key).stem) for obj in stored_files(app).list(checkpoints.KIND)]


def test_a_checkpoint_is_stored_once_per_head(app: Flask, flow: Flow) -> None:
    flow.declare()
    first = checkpoint_now(app)
    again = checkpoint_now(app)
    assert first.stored and not again.stored
    assert stored_seqs(app) == [first.checkpoint.seq] == [head(app)]


def test_verify_recomputes_only_what_follows_the_newest_checkpoint(
    app: Flask, flow: Flow, db: Session
) -> None:
    flow.certified()
    signed = checkpoint_now(app).checkpoint
    for n in range(3):
        append(db, f"after-{n}")
    result = run_cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert f"3 events after checkpoint {signed.seq} recomputed" in result.output


def test_an_edit_after_the_newest_checkpoint_is_caught(app: Flask, flow: Flow, db: Session) -> None:
    flow.certified()
    signed = checkpoint_now(app).checkpoint
    append(db, "after")
    assert head(app) == signed.seq + 1
    allow_tampering(db)
    edit_event(db, signed.seq + 1, entity_id="forged")
    db.commit()
    result = run_cli(app, "verify")
    assert result.exit_code == 1
    assert f"broken at event {signed.seq + 1}: event content was altered" in result.output


def test_an_edit_before_the_newest_checkpoint_needs_the_full_walk(
    app: Flask, flow: Flow, db: Session
) -> None:
    flow.certified()
    checkpoint_now(app)
    allow_tampering(db)
    edit_event(db, 1, entity_id="forged")
    db.commit()
    assert run_cli(app, "verify").exit_code == 0  # vouched for by the signed head
    full = run_cli(app, "verify", "--full")
    assert full.exit_code == 1
    assert "broken at event 1: event content was altered" in full.output


def test_a_rewritten_checkpointed_link_is_caught(app: Flask, flow: Flow, db: Session) -> None:
    flow.certified()
    signed = checkpoint_now(app).checkpoint
    allow_tampering(db)
    db.execute(
        text("UPDATE audit_chain SET hash = :forged WHERE seq = :seq"),
        {"forged": "f" * 64, "seq": signed.seq},
    )
    db.commit()
    result = run_cli(app, "verify")
    assert result.exit_code == 1
    assert f"broken at event {signed.seq}: differs from the checkpoint" in result.output


def test_a_forged_checkpoint_in_the_store_is_refused(app: Flask, flow: Flow) -> None:
    flow.declare()
    genuine = checkpoint_now(app).checkpoint
    forged = genuine.to_json().replace(genuine.hash, "0" * 64)
    stored_files(app).put(checkpoints.key_of(genuine.seq + 5), forged.encode())
    result = run_cli(app, "verify")
    assert result.exit_code == 1
    assert "is not genuine" in result.output


def test_periodic_tasks_run_every_few_minutes_or_whole_hours() -> None:
    with pytest.raises(ValueError, match="under 60 or whole hours"):
        queue.periodic("too.odd", every_minutes=90)


def test_the_worker_checkpoints_as_it_starts_and_as_it_stops(
    app: Flask, flow: Flow, db: Session, cjk_font_path: Any
) -> None:
    flow.declare()
    worker = start_worker(worker_env(app, cjk_font_path, queue_settings(app)))
    try:
        deadline = time.monotonic() + 60
        while not stored_seqs(app) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stored_seqs(app), "no checkpoint from the worker's start"
        started = stored_seqs(app)[-1]
        for n in range(2):
            append(db, f"while-running-{n}")
    finally:
        errors = stop(worker)
    assert worker.returncode == 0, errors
    assert stored_seqs(app)[-1] == head(app) > started
