"""Readiness: each part the app needs checked on its own, with a short timeout, reporting what
it found and never a secret (no URL, no password, no path)."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from huey import Huey
from sqlalchemy import text
from sqlalchemy.engine import Engine

from qc_app import migrate
from qc_app.storage import Storage, StorageError


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    detail: str


def database(engine: Engine) -> Part:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, heads = migrate.revisions(engine)
    except Exception as exc:  # any driver error means "not ready"; its class says which
        return Part("database", False, f"unreachable ({type(exc).__name__})")
    if current != heads:
        found = ", ".join(sorted(current)) or "none"
        return Part("database", False, f"schema at {found}, code wants {', '.join(sorted(heads))}")
    return Part("database", True, f"migrated to {', '.join(sorted(heads))}")


def redis_store(url: str) -> Part:
    """Redis when the rate limits are kept there (memory:// means one process, no Redis)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return Part("redis", True, "not configured (limits in process memory)")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return Part("redis", False, f"unreachable ({type(exc).__name__})")
    return Part("redis", True, "answers")


def file_store(files: Storage) -> Part:
    """The file store (folder or S3) takes a write: one small probe object, written once and
    then renewed (a put of an existing key), so probing stores nothing new."""
    try:
        files.put("ready/probe", b"ready")
    except (OSError, StorageError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else None
        return Part("storage", False, f"not writable ({detail or type(exc).__name__})")
    return Part("storage", True, "writable")


def task_queue(huey: Huey) -> Part:
    """The queue's storage answers (Redis, or the SQLite file): a worker can be handed work."""
    try:
        waiting = huey.pending_count()
    except Exception as exc:  # the storage's own errors (redis, sqlite3) differ by backend
        return Part("queue", False, f"unreachable ({type(exc).__name__})")
    return Part("queue", True, f"{waiting} tasks waiting")
