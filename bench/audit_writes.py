"""Audited writes per second on PostgreSQL: the old global append lock against the sequencer.

    .venv/bin/python bench/audit_writes.py [--seconds 3] [--rounds 3] [--writers 1,4,16] [URL]

The URL (else TEST_DATABASE_URL, else DATABASE_URL) names a PostgreSQL server; the bench makes a
throwaway database on it, migrates it, and drops it at the end. Commits wait for the disk
(synchronous_commit as the server has it), as in production. Each writer thread runs
transactions of one business row each, for `--seconds`, in three variants (each figure the
best of `--rounds`, the variants taking turns):

  plain  the business row alone (the reference: what the database does without any audit)
  old    + an audit event as revision 0013 wrote it: pg_advisory_xact_lock(727101), read the
         head, insert the event with its chained hash (reproduced here on a table of that shape)
  new    + audit.record (event and queue entry, no lock), while a sequencer thread chains the
         queue every 0.2 s, as the worker does

and after the run the queue is drained and the chain verified. Prints figures only: never part
of the pass/fail test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc_app import audit  # noqa: E402
from qc_app.audit import GENESIS, AuditEvent  # noqa: E402
from qc_app.db import new_session, write  # noqa: E402
from qc_app.migrate import upgrade  # noqa: E402
from qc_app.sqltypes import utcnow  # noqa: E402

OLD_TABLE = """
CREATE TABLE bench_old_audit (
  seq integer PRIMARY KEY, at timestamptz NOT NULL, actor_id integer, actor varchar(64) NOT NULL,
  action varchar(48) NOT NULL, entity varchar(32) NOT NULL, entity_id varchar(64) NOT NULL,
  data text NOT NULL, prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL UNIQUE
);
CREATE INDEX ON bench_old_audit (action);
CREATE INDEX ON bench_old_audit (actor_id);
CREATE INDEX ON bench_old_audit (entity_id);
CREATE TABLE bench_rows (id serial PRIMARY KEY, writer integer NOT NULL, n integer NOT NULL);
"""


def business_row(session: Session, writer: int, n: int) -> None:
    session.execute(
        text("INSERT INTO bench_rows (writer, n) VALUES (:w, :n)"), {"w": writer, "n": n}
    )


def plain(session: Session, writer: int, n: int) -> None:
    with write(session):
        business_row(session, writer, n)


def old(session: Session, writer: int, n: int) -> None:
    """Revision 0013's audit.record, on a table of its shape."""
    with write(session):
        business_row(session, writer, n)
        session.execute(text("SELECT pg_advisory_xact_lock(727101)"))
        last = session.execute(
            text("SELECT seq, hash FROM bench_old_audit ORDER BY seq DESC LIMIT 1")
        ).first()
        seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
        event = AuditEvent(
            id=seq,  # the old code's number; link_hash hashes it exactly as the old code did
            at=utcnow(),
            actor="bench",
            action="bench_write",
            entity="bench",
            entity_id=f"{writer}-{n}",
            data=f'{{"n":{n}}}',
        )
        session.execute(
            text(
                "INSERT INTO bench_old_audit (seq, at, actor, action, entity, entity_id, data,"
                " prev_hash, hash) VALUES (:seq, :at, :actor, :action, :entity, :entity_id,"
                " :data, :prev, :hash)"
            ),
            {
                **event.model_dump(exclude={"id", "actor_id"}),
                "seq": seq,
                "prev": prev,
                "hash": audit.link_hash(prev, seq, event),
            },
        )


def new(session: Session, writer: int, n: int) -> None:
    with write(session):
        business_row(session, writer, n)
        audit.record(
            session,
            actor=None,
            action="bench_write",
            entity="bench",
            entity_id=f"{writer}-{n}",
            at=utcnow(),
            n=n,
        )


def measure(
    engine: Engine, step: Callable[[Session, int, int], None], writers: int, seconds: float
) -> float:
    """Transactions committed per second by `writers` threads running `step` for `seconds`."""
    counts = [0] * writers
    start = threading.Barrier(writers + 1)
    deadline = [0.0]

    def run(i: int) -> None:
        with new_session(engine) as session:
            start.wait()
            while time.monotonic() < deadline[0]:
                step(session, i, counts[i])
                counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def sequencing(engine: Engine) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()

    def run() -> None:
        with new_session(engine) as session:
            while not stop.wait(0.2):
                audit.sequence(session)

    thread = threading.Thread(target=run)
    thread.start()
    return stop, thread


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--writers", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.url or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        sys.exit("a PostgreSQL URL is needed (argument, TEST_DATABASE_URL or DATABASE_URL)")
    server = url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"qc_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    writer_counts = [int(w) for w in args.writers.split(",")]
    # A connection for every writer and the sequencer, none waiting for the pool.
    engine = create_engine(
        f"{server.rsplit('/', 1)[0]}/{name}", pool_size=max(writer_counts) + 2, max_overflow=0
    )
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(OLD_TABLE)
        run(engine, writer_counts, args.seconds, args.rounds)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(engine: Engine, writer_counts: list[int], seconds: float, rounds: int) -> None:
    with engine.connect() as conn:
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
    print(
        f"PostgreSQL, synchronous_commit={sync}; committed transactions/s, best of {rounds}"
        f" rounds of {seconds:g} s (the variants interleave: the machine is shared)"
    )
    print(f"{'writers':>7} {'plain':>8} {'old':>8} {'new':>8} {'new/old':>8}")
    for writers in writer_counts:
        figures = {"plain": 0.0, "old": 0.0, "new": 0.0}
        for _ in range(rounds):
            figures["plain"] = max(figures["plain"], measure(engine, plain, writers, seconds))
            figures["old"] = max(figures["old"], measure(engine, old, writers, seconds))
            stop, sequencer = sequencing(engine)
            try:
                figures["new"] = max(figures["new"], measure(engine, new, writers, seconds))
            finally:
                stop.set()
                sequencer.join()
        ratio = figures["new"] / figures["old"]
        print(
            f"{writers:>7} {figures['plain']:>8.0f} {figures['old']:>8.0f} {figures['new']:>8.0f}"
            f" {ratio:>7.1f}x",
            flush=True,
        )
    with new_session(engine) as session:
        began = time.monotonic()
        chained = audit.sequence(session)
        drained = time.monotonic() - began
        report = audit.verify_chain(session)
    print(
        f"after the run: {chained} events left to chain, chained in {drained:.2f} s;"
        f" chain {'verifies' if report.ok else 'BROKEN: ' + report.problem},"
        f" {report.events} links, {report.pending} pending"
    )


if __name__ == "__main__":
    main()
