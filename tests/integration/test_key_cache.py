"""The public-key cache: parsed once, yet a new key is seen on the next request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from qc_app.certificates import signing
from qc_app.certificates.keys import verifier
from qc_app.certificates.models import SigningKey
from qc_app.db import write
from qc_app.sqltypes import utcnow


def test_same_rows_give_the_same_parsed_verifier(db: Any, world: Any) -> None:
    assert verifier(db) is verifier(db)


def test_a_new_key_is_seen_at_once(db: Any, world: Any) -> None:
    before = verifier(db)
    new = signing.generate_key("p" * 40)
    with write(db):
        db.add(
            SigningKey(
                kid=new.kid,
                public_key=new.public_b64,
                private_key_pem=new.private_pem,
                not_before=utcnow() + timedelta(seconds=1),
            )
        )
    after = verifier(db)
    assert after is not before
    assert after.key(new.kid).kid == new.kid
