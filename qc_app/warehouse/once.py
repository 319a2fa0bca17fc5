"""One-time tokens: a scanner page carries a fresh token per form; the API takes an
Idempotency-Key header. Both are claimed in the same transaction as the change they guard,
with a digest of what the request asked for: the same key and the same request replay the
first outcome; the same key with another request is refused (422), never answered with an
outcome that belongs to something else."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.warehouse.models import OnceToken

MAX_KEY = 80


def new_token() -> str:
    return secrets.token_urlsafe(18)


def clean_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(msg("幂等键无效", max_key_en=MAX_KEY))
    return key


def digest(**fields: object) -> str:
    """SHA-256 of a request's fields as the service received them (bytes by their SHA-256):
    the same form or body gives the same digest, whatever the transport (a multipart
    boundary differs on every retry)."""
    canonical = {
        name: hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else str(value)
        for name, value in fields.items()
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def recall(
    session: Session, *, user_id: int | None, key: str | None, scope: str, request: str
) -> Any:
    """The outcome stored under this key, or None if the key was never used; `request` is the
    digest of this request, which must be the one the key was first used with."""
    if not key:
        return None
    row = session.exec(
        select(OnceToken).where(OnceToken.user_id == user_id, OnceToken.key == key)
    ).first()
    if row is None:
        return None
    if row.scope != scope:
        raise ValidationFailed(msg("幂等键已用于其他操作"))
    if row.request_sha256 != request:
        raise ValidationFailed(
            msg("此表单（幂等键）已提交过不同的内容，请刷新后重试"),
        )
    return row.outcome


def remember(
    session: Session,
    *,
    user_id: int | None,
    key: str | None,
    scope: str,
    request: str,
    outcome: Any,
    now: datetime,
) -> None:
    """Claim the key inside the caller's transaction; a concurrent claim fails at flush/commit."""
    if not key:
        return
    session.add(
        OnceToken(
            key=key,
            user_id=user_id or 0,
            scope=scope,
            request_sha256=request,
            outcome=outcome,
            created_at=now,
        )
    )
    session.flush()
