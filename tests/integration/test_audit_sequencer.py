"""The audit log under concurrent writers: 16 threads append events at once while the sequencer
runs, on SQLite and on PostgreSQL; none is lost, each is chained once, the chain verifies. An
event that commits after a higher id was chained is chained by the next run."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.audit import AuditEvent, AuditLink
from qc_app.db import engine_of, new_session, write
from qc_app.sqltypes import utcnow
from tests.audit_support import append, numbered

WRITERS = 16
EACH = 12


def in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run work(0) … work(count - 1) at once; re-raise the first failure here."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(i)
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(t.is_alive() for t in threads), "a writer never finished"
    if errors:
        raise errors[0]


def test_concurrent_writers_lose_no_event_and_the_chain_verifies(app: Flask) -> None:
    engine = engine_of(app)
    written: list[int] = []
    done = threading.Event()

    def writer(i: int) -> None:
        with new_session(engine) as session:
            written.extend(append(session, f"w{i}-{n}") for n in range(EACH))

    def sequencer() -> None:
        with new_session(engine) as session:
            while not done.is_set():
                audit.sequence(session, batch=7)

    running = threading.Thread(target=sequencer)
    running.start()
    try:
        in_threads(WRITERS, writer)
    finally:
        done.set()
        running.join(120)
    with new_session(engine) as session:
        audit.sequence(session)
        report = audit.verify_chain(session)
        chained = session.exec(select(AuditLink.event_id)).all()
        names = session.exec(select(AuditEvent.entity_id).where(AuditEvent.entity == "test")).all()
    assert (report.ok, report.pending, report.problem) == (True, 0, "")
    assert len(written) == len(set(written)) == WRITERS * EACH
    assert set(written) <= set(chained) and len(chained) == len(set(chained)) == report.events
    assert sorted(names) == sorted(f"w{i}-{n}" for i in range(WRITERS) for n in range(EACH))


def test_sequencing_in_small_batches_chains_everything_in_id_order(app: Flask, db: Session) -> None:
    ids = [append(db, f"e{n}") for n in range(10)]
    assert audit.sequence(db, batch=3) == 10
    links = db.exec(select(AuditLink).order_by(col(AuditLink.seq))).all()
    assert [link.event_id for link in links][-10:] == ids
    assert audit.verify_chain(db).ok


def test_an_event_committed_after_a_higher_id_was_chained_is_chained_later(
    app: Flask, db: Session
) -> None:
    """PostgreSQL hands out ids as transactions insert and shows rows as they commit: an id
    below the newest chained one can still appear. SQLite writes one transaction at a time, so
    there the ids are given as PostgreSQL would have given them."""
    engine = engine_of(app)
    before = append(db, "before")
    with new_session(engine) as late:
        if engine.dialect.name == "postgresql":
            with write(late):
                slow = audit.record(
                    late,
                    actor=None,
                    action="test_event",
                    entity="test",
                    entity_id="slow",
                    at=utcnow(),
                )
                quick = append(db, "quick")  # another connection: commits while `late` is open
                assert audit.sequence(db) == 2  # "before" and "quick"; "slow" is not visible yet
        else:
            quick = numbered(db, before + 2, "quick").id
            assert audit.sequence(db) == 2
            slow = numbered(late, before + 1, "slow")
    assert slow.id is not None and quick is not None and slow.id < quick
    db.commit()
    assert audit.sequence(db) == 1
    newest = db.exec(select(AuditLink).order_by(col(AuditLink.seq).desc())).first()
    assert newest is not None and newest.event_id == slow.id
    report = audit.verify_chain(db)
    assert (report.ok, report.pending) == (True, 0)
