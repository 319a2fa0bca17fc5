"""Backups an operator can restore: a consistent copy of the database taken while it serves,
every stored file, and a manifest of SHA-256 digests (written last: a folder without one is not
a backup).

Consistent without stopping anything: files are content-addressed, stored before the row that
names them commits, never changed, and removed only by the sweeper once no row names them (after
a grace period). So the database is copied first, as one snapshot (SQLite's online backup;
pg_dump on an exported snapshot, in which the row counts are also taken), then the files: every
file a copied row names is already there. Secrets (instance/secrets.env) are not in a backup:
keep them apart; a restore needs the same QC_KEY_PASSPHRASE and QC_CHECK_CODE_KEY.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, table, text
from sqlalchemy.engine import Connection, Engine

from qc_app import migrate
from qc_app.orphans import REFERENCES
from qc_app.storage import Storage

MANIFEST = "manifest.json"
FORMAT = "qc-backup-v1"
# Every kind of stored object: the content-addressed ones the sweeper knows, and checkpoints.
KINDS = (*REFERENCES, "checkpoints")
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(RuntimeError):
    """The backup or restore was refused or failed; the message says why."""


@dataclass(frozen=True)
class StoredCopy:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql": a backup restores into the same kind
    dump: str
    dump_sha256: str
    revisions: list[str]
    rows: dict[str, int]
    files: list[StoredCopy] = field(default_factory=list)
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise BackupError(f"{folder} holds no {MANIFEST}: not a finished backup")
        fields = json.loads(path.read_text())
        if fields.get("format") != FORMAT:
            raise BackupError(f"{path}: format {fields.get('format')!r}, expected {FORMAT}")
        fields["files"] = [StoredCopy(**entry) for entry in fields["files"]]
        return cls(**fields)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables(connection: Connection) -> list[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return sorted(str(name) for name in connection.execute(text(query)).scalars())


def _row_counts(connection: Connection) -> dict[str, int]:
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in _tables(connection)
    }


def _sqlite_row_counts(path: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return _row_counts(connection)
    finally:
        engine.dispose()


def _pg_environment(engine: Engine) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and the environment carrying it (never in argv,
    where `ps` would show it)."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        # pg_dump / pg_restore with our own paths and URL: no shell, nothing from a request.
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)") from None
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()[-500:]}") from None


def _copy_database(engine: Engine, dump: Path) -> dict[str, int]:
    """One consistent copy of the database, and its row counts as of that copy."""
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(str(engine.url.database))
        target = sqlite3.connect(dump)
        try:
            source.backup(target)  # SQLite's online backup: one snapshot, writers go on
        finally:
            source.close()
            target.close()
        return _sqlite_row_counts(dump)
    url, env = _pg_environment(engine)
    with engine.connect() as connection:
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        _run(
            [
                "pg_dump",
                f"--snapshot={snapshot}",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
                url,
            ],
            env,
        )
        rows = _row_counts(connection)  # the same snapshot pg_dump copied
        connection.rollback()
    return rows


def backup(*, engine: Engine, files: Storage, folder: Path, now: datetime) -> Manifest:
    """Copy the database, then every stored file, into `folder` (new or empty); the manifest
    last."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    (folder / "files").mkdir(parents=True, exist_ok=True)
    kind = engine.dialect.name
    if kind not in DUMPS:
        raise BackupError(f"cannot back up a {kind} database")
    current, _heads = migrate.revisions(engine)
    dump = folder / DUMPS[kind]
    rows = _copy_database(engine, dump)
    copies = []
    for stored_kind in KINDS:
        for stored in files.list(stored_kind):
            data = files.get(stored.key)  # a content-addressed object is checked as it is read
            target = folder / "files" / stored.key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            copies.append(StoredCopy(stored.key, hashlib.sha256(data).hexdigest(), len(data)))
    manifest = Manifest(
        created_at=now.isoformat(),
        database=kind,
        dump=dump.name,
        dump_sha256=_sha256_file(dump),
        revisions=sorted(current),
        rows=rows,
        files=copies,
    )
    partial = folder / f".{MANIFEST}.partial"
    partial.write_text(manifest.to_json())
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(folder / MANIFEST)
    return manifest


def check(folder: Path) -> Manifest:
    """The manifest, once every file in the backup matches its digest."""
    manifest = Manifest.read(folder)
    if _sha256_file(folder / manifest.dump) != manifest.dump_sha256:
        raise BackupError(f"{manifest.dump} does not match its digest: the backup is damaged")
    for copy in manifest.files:
        path = folder / "files" / copy.key
        if not path.is_file() or _sha256_file(path) != copy.sha256:
            raise BackupError(f"{copy.key} is missing or damaged in the backup")
    return manifest


def restore(*, engine: Engine, files: Storage, folder: Path) -> Manifest:
    """Into an empty database of the same kind and a store: the database, then the files;
    then the row counts are compared with the manifest's. Nothing is written when the backup
    is damaged or the database is not empty."""
    manifest = check(folder)
    kind = engine.dialect.name
    if kind != manifest.database:
        raise BackupError(f"this backup is of a {manifest.database} database, not {kind}")
    with engine.connect() as connection:
        if _tables(connection):
            raise BackupError("the target database is not empty: restore into a new one")
    dump = folder / manifest.dump
    if kind == "sqlite":
        engine.dispose()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(str(engine.url.database))
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        url, env = _pg_environment(engine)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "-d",
                url,
                str(dump),
            ],
            env,
        )
    for copy in manifest.files:
        files.put(copy.key, (folder / "files" / copy.key).read_bytes())
    with engine.connect() as connection:
        rows = _row_counts(connection)
    if rows != manifest.rows:
        differ = sorted(
            t for t in rows.keys() | manifest.rows.keys() if rows.get(t) != manifest.rows.get(t)
        )
        raise BackupError(f"restored row counts differ from the backup's in {', '.join(differ)}")
    return manifest
