"""Readiness: each part the app needs checked on its own, with a short timeout, reporting what
it found and never a secret (no URL, no password, no path)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine

from qc_app import migrate


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


def folder_writable(name: str, folder: Path) -> Part:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-") as probe:
            probe.write(b"ready")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return Part(name, False, f"not writable ({exc.strerror or type(exc).__name__})")
    return Part(name, True, "writable")
