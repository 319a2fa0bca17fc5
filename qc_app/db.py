"""Engine and sessions.

SQLite runs in WAL mode with foreign keys, FULL sync (certificates and payouts must survive a
power cut) and a busy timeout. Write transactions start with BEGIN IMMEDIATE so two writers
never deadlock on a read-to-write lock upgrade; read-only requests stay on plain BEGIN.
On PostgreSQL the defaults apply (READ COMMITTED).

Races are settled inside `write`, by the database, never by a check made before it: the rows a
decision depends on are read again under a lock as the transaction starts, version columns
refuse an update of a row that changed since it was read, unique indexes refuse a second row
where only one may exist. Whoever loses gets `LostRace` (409) and nothing of theirs is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g
from sqlalchemy import Index, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, create_engine

from qc_app.errors import LostRace
from qc_app.i18n import Message, msg
from qc_app.sqltypes import CONFLICT
from qc_app.units import parse_int

WRITE = "qc_write"
CHANGED = msg("记录刚被他人修改，请刷新后重试")
EXISTS = msg("相同的记录刚被他人创建，请刷新后重试")
# PostgreSQL: unique violation; serialization failure and deadlock (a lock-order race).
UNIQUE_VIOLATION = "23505"
RETRYABLE = ("40001", "40P01")
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


@contextmanager
def single_read(session: Session) -> Iterator[Connection]:
    """A connection for one read statement that needs no transaction around it (a statement
    is its own snapshot; the consumer's page is one), taken from the engine, not through the
    ORM session's transaction. On PostgreSQL it is in autocommit, which saves the BEGIN and
    ROLLBACK round trips a transaction costs. Inside a transaction it is the session's own
    connection, so the read sees what the transaction wrote."""
    bind = session.get_bind()
    if session.in_transaction() or not isinstance(bind, Engine):
        yield session.connection()
        return
    if bind.dialect.name == "postgresql":
        bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    with bind.connect() as connection:
        yield connection


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


@contextmanager
def write(session: Session, *rows: SQLModel) -> Iterator[Session]:
    """One write transaction: everything inside commits together or not at all.

    `rows` are what the transaction's checks depend on (the item a transition moves, the
    certificate being revoked): they are read again as it starts, locked (SELECT … FOR UPDATE
    on PostgreSQL; on SQLite the write lock already holds the whole database), so a check made
    inside sees what is committed now, not what the request read before a concurrent one won.

    A lost race becomes `LostRace` (409) here, in one place: a version column that moved on
    (StaleDataError), a unique index refusing a second row (its `info[CONFLICT]` says what to
    tell the loser), a PostgreSQL serialization failure or deadlock. Nothing of it is saved.

    A write inside a write (one service calling another, e.g. an upheld claim revoking its
    certificate) joins the outer transaction: only the outermost block commits."""
    if session.info.get(WRITE):
        _reread(session, rows)
        yield session
        return
    if session.in_transaction():
        # A read transaction left open by earlier reads (e.g. loading the user) holds no
        # changes; end it so the write starts with the write lock.
        session.commit()
    session.connection(execution_options={WRITE: True})
    session.info[WRITE] = True
    try:
        _reread(session, rows)
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        lost = _lost_race(exc)
        if lost is not None:
            raise lost from exc
        raise
    finally:
        session.info.pop(WRITE, None)


def _reread(session: Session, rows: tuple[SQLModel, ...]) -> None:
    if not rows:
        return
    session.flush()  # a refresh would otherwise drop changes already made in this transaction
    for row in rows:
        session.refresh(row, with_for_update=True)


def _lost_race(exc: BaseException) -> LostRace | None:
    """The 409 for an exception that means another transaction got there first, else None
    (any other integrity error is a bug and stays one)."""
    if isinstance(exc, StaleDataError):
        return LostRace(CHANGED)
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE:
        return LostRace(CHANGED)
    if not isinstance(exc, IntegrityError):
        return None
    if sqlstate == UNIQUE_VIOLATION:
        name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        return LostRace(_unique_message(lambda index: index.name == name))
    text = str(exc.orig)
    prefix = "UNIQUE constraint failed: "  # SQLite names the columns, not the index
    if not text.startswith(prefix):
        return None
    columns = {c.strip() for c in text.removeprefix(prefix).split(",")}
    return LostRace(_unique_message(lambda index: _qualified(index) == columns))


def _qualified(index: Index) -> set[str]:
    table = index.table.name if index.table is not None else ""
    return {f"{table}.{column.name}" for column in index.columns}


def _unique_message(matches: Callable[[Index], bool]) -> Message:
    for table in SQLModel.metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.unique and CONFLICT in index.info and matches(index):
                return index.info[CONFLICT]  # type: ignore[no-any-return]
    return EXISTS


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
