"""Engine and sessions.

SQLite runs in WAL mode with foreign keys, FULL sync (certificates and payouts must survive a
power cut) and a busy timeout. Write transactions start with BEGIN IMMEDIATE so two writers
never deadlock on a read-to-write lock upgrade; read-only requests stay on plain BEGIN.
On PostgreSQL the defaults apply (READ COMMITTED); races are settled by version columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from qc_app.units import parse_int

WRITE = "qc_write"
# The largest id a row can have: PostgreSQL `integer`. A larger one cannot exist, and would
# overflow the driver (a 500) if it reached a query, so bound ids from URLs, JSON and CSV by it.
MAX_DB_INT = 2**31 - 1


def parse_id(value: object, *, field: str) -> int:
    """An id from JSON, a form or a CSV file: a whole number that a row could have."""
    return parse_int(value, field=field, low=1, high=MAX_DB_INT)


def make_engine(url: str, *, durable: bool = True) -> Engine:
    """durable=False (counters only, e.g. consumer scans): SQLite commits without an fsync
    (WAL + synchronous=NORMAL: a power cut may lose the last counts, never corrupts)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        _configure_sqlite(engine, "FULL" if durable else "NORMAL")
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, synchronous: str = "FULL") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not pysqlite, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "foreign_keys=ON",
            "busy_timeout=15000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


@contextmanager
def write(session: Session) -> Iterator[Session]:
    """One write transaction: everything inside commits together or not at all.

    A write inside a write (one service calling another, e.g. an upheld claim revoking its
    certificate) joins the outer transaction: only the outermost block commits."""
    if session.info.get(WRITE):
        yield session
        return
    if session.in_transaction():
        # A read transaction left open by earlier reads (e.g. loading the user) holds no
        # changes; end it so the write starts with the write lock.
        session.commit()
    session.connection(execution_options={WRITE: True})
    session.info[WRITE] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(WRITE, None)


def init_app(app: Flask, url: str) -> Engine:
    engine = make_engine(url)
    app.extensions["qc_engine"] = engine
    app.extensions["qc_counter_engine"] = (
        make_engine(url, durable=False) if url.startswith("sqlite") else engine
    )

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return engine


def engine_of(app: Flask) -> Engine:
    return app.extensions["qc_engine"]  # type: ignore[no-any-return]


def request_session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = new_session(engine_of(current_app))
    return g.db_session  # type: ignore[no-any-return]
