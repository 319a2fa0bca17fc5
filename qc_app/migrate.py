"""Alembic owns the schema; these wrappers run it on the app's engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

SCRIPTS = Path(__file__).parent / "migrations"


def _config(connection: object, check_code_key: bytes | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    config.attributes["check_code_key"] = check_code_key
    return config


def upgrade(engine: Engine, revision: str = "head", *, check_code_key: bytes | None = None) -> None:
    """`check_code_key` (Config.CHECK_CODE_KEY): revision 0009 re-keys the check-code digests of
    existing certificates with it, and refuses to run without it when there are any."""
    _run(engine, lambda config: command.upgrade(config, revision), check_code_key)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda config: command.downgrade(config, revision), None)


def _run(
    engine: Engine, step: Callable[[AlembicConfig], None], check_code_key: bytes | None
) -> None:
    """On SQLite, Alembic changes a column by copying its table and dropping the old one; with
    foreign keys on, dropping a table other rows refer to fails. So, as SQLite's own procedure
    for altering tables says: keys off outside the transaction, every key checked before commit.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys(connection, on=False)
        try:
            with connection.begin():
                step(_config(connection, check_code_key))
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("migration left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                _foreign_keys(connection, on=True)


def _foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the driver's connection: outside any transaction (inside one SQLite ignores it).
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def revision(engine: Engine, message: str) -> None:
    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the heads of the migration scripts): equal when the
    schema is up to date."""
    heads = set(ScriptDirectory.from_config(_config(None)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads
