"""The Ed25519 keys certificates are signed with: created, rotated, cached per process, and
published (with the PDF CA) as a JWK set."""

from __future__ import annotations

import time
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.certificates import signing
from qc_app.certificates.ca import ca_jwk, platform_ca
from qc_app.certificates.models import SigningKey
from qc_app.db import write
from qc_app.errors import Conflict
from qc_app.i18n import msg


def ensure_signing_key(*, session: Session, passphrase: str, now: datetime) -> SigningKey:
    """The current signing key, created on first run."""
    key = current_key(session)
    if key is not None:
        return key
    new = signing.generate_key(passphrase)
    key = SigningKey(
        kid=new.kid, public_key=new.public_b64, private_key_pem=new.private_pem, not_before=now
    )
    with write(session):
        session.add(key)
        audit.record(
            session,
            actor=None,
            action="key_created",
            entity="signing_key",
            entity_id=new.kid,
            at=now,
        )
    return key


def current_key(session: Session) -> SigningKey | None:
    query = select(SigningKey).where(col(SigningKey.not_after).is_(None))
    return session.exec(query.order_by(col(SigningKey.not_before).desc())).first()


@lru_cache(maxsize=8)
def _signer(kid: str, private_pem: str, passphrase: str) -> signing.Signer:
    # Decrypting the key costs a KDF run; do it once per process and key.
    return signing.Signer(kid, private_pem, passphrase)


def signer_for(session: Session, passphrase: str) -> signing.Signer:
    key = current_key(session)
    if key is None:
        raise Conflict(
            msg("没有可用的签名密钥，请运行 flask qc keys init"),
        )
    return _signer(key.kid, key.private_key_pem, passphrase)


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(col(SigningKey.not_before))))


KeyRows = tuple[tuple[str, str, datetime, datetime | None], ...]


@lru_cache(maxsize=8)
def _verifier_for(rows: KeyRows) -> signing.Verifier:
    return signing.Verifier([signing.public_key(*row) for row in rows])


_recent_verifier: tuple[float, signing.Verifier] | None = None


def verifier(session: Session, *, max_age_s: float = 0.0) -> signing.Verifier:
    """Every public key with its window. The rows are read each call (one small query), so a
    rotated key is seen at once; the Ed25519 key objects are built only when the rows change.

    max_age_s > 0 (the consumer's page, on every scan): rows read by this process less than
    that long ago are used as they are; a caller that gets a refusal asks again with 0."""
    global _recent_verifier
    recent = _recent_verifier
    if max_age_s and recent is not None and time.monotonic() - recent[0] < max_age_s:
        return recent[1]
    query = select(
        SigningKey.kid, SigningKey.public_key, SigningKey.not_before, SigningKey.not_after
    ).order_by(col(SigningKey.not_before))
    keys = _verifier_for(tuple((r[0], r[1], r[2], r[3]) for r in session.exec(query)))
    _recent_verifier = (time.monotonic(), keys)
    return keys


def rotate_signing_key(
    *, session: Session, actor: User | None, passphrase: str, now: datetime
) -> SigningKey:
    """Retire the current key (its window closes now) and start a new one, in one transaction.

    Certificates signed before keep verifying: the retired key stays published with its window,
    and a payload claiming an issue time outside that window is refused."""
    new = signing.generate_key(passphrase)
    key = SigningKey(
        kid=new.kid, public_key=new.public_b64, private_key_pem=new.private_pem, not_before=now
    )
    with write(session):
        retired = current_key(session)
        if retired is not None:
            retired.not_after = now
            session.add(retired)
        session.add(key)
        audit.record(
            session,
            actor=actor,
            action="key_rotated",
            entity="signing_key",
            entity_id=new.kid,
            at=now,
            retired=retired.kid if retired else None,
        )
    return key


def jwks(session: Session) -> dict[str, Any]:
    """The public keys: every Ed25519 key with its window, and the platform CA as `x5c`.

    Members beyond RFC 7517: `nbf`/`exp` (seconds since the epoch) bound when a key may have
    signed; `qc_state` is `current` or `retired`; the CA entry has `qc_role: pdf-ca` and is
    the trust root of the PDF (PAdES) signatures."""
    keys = [
        signing.jwk(
            signing.public_key(k.kid, k.public_key, k.not_before, k.not_after), k.public_key
        )
        | {"qc_state": "current" if k.not_after is None else "retired"}
        for k in all_keys(session)
    ]
    ca = platform_ca(session)
    if ca is not None:
        keys.append(ca_jwk(ca))
    return {"keys": keys}
