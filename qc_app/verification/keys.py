"""The public keys for the consumer's page, parsed once per process, not once per request.

Same keys and windows as certificates.services.verifier; the rows are re-read on every call
(one small column query), so a rotated or added key is seen on the next request, while the
Ed25519 key objects are built only when the rows change.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from qc_app.certificates import signing
from qc_app.certificates.models import SigningKey

Rows = tuple[tuple[str, str, datetime, datetime | None], ...]


@lru_cache(maxsize=8)
def _build(rows: Rows) -> signing.Verifier:
    return signing.Verifier([signing.public_key(*row) for row in rows])


def verifier(session: Session) -> signing.Verifier:
    query = select(
        SigningKey.kid, SigningKey.public_key, SigningKey.not_before, SigningKey.not_after
    ).order_by(col(SigningKey.not_before))
    return _build(tuple((r[0], r[1], r[2], r[3]) for r in session.exec(query)))
