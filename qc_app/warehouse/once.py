"""One-time tokens: a scanner page carries a fresh token per form; the API takes an
Idempotency-Key header. Both are claimed in the same transaction as the change they guard."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from qc_app.errors import ValidationFailed
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
        raise ValidationFailed("幂等键无效", f"the idempotency key must be 1–{MAX_KEY} characters")
    return key


def recall(session: Session, *, user_id: int | None, key: str | None, scope: str) -> Any:
    """The outcome stored under this key, or None if the key was never used."""
    if not key:
        return None
    row = session.exec(
        select(OnceToken).where(OnceToken.user_id == user_id, OnceToken.key == key)
    ).first()
    if row is None:
        return None
    if row.scope != scope:
        raise ValidationFailed(
            "幂等键已用于其他操作", "the idempotency key was used for another call"
        )
    return json.loads(row.outcome)


def remember(
    session: Session,
    *,
    user_id: int | None,
    key: str | None,
    scope: str,
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
            outcome=json.dumps(outcome, ensure_ascii=False, sort_keys=True),
            created_at=now,
        )
    )
    session.flush()
