"""Webhook secrets and signatures.

Signatures are Standard Webhooks' (`webhook-id`, `webhook-timestamp`, `webhook-signature:
v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), made by the spec's own library, so a receiver
verifies with `standardwebhooks.Webhook(secret).verify(body, headers)`.

An HMAC secret cannot be stored as a hash: the worker must hold it to sign. It is stored sealed
(AES-256-GCM) under a key derived from QC_CHECK_CODE_KEY, which lives in the environment of
every process and never in the database: a copy of the database alone neither shows a secret
nor forges a signature. The secret is shown once, when the subscription is created.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from standardwebhooks import Webhook

PREFIX = "whsec_"
SEAL_LABEL = b"qc webhook secret v1"


class SecretUnreadable(Exception):
    """A sealed secret that the key of this process does not open (another QC_CHECK_CODE_KEY,
    or an edited row)."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def seal(secret: str, key: bytes) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), SEAL_LABEL)
    return base64.b64encode(nonce + sealed).decode()


def unseal(sealed: str, key: bytes) -> str:
    raw = base64.b64decode(sealed)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], SEAL_LABEL).decode()
    except InvalidTag as exc:
        raise SecretUnreadable("the webhook secret does not open with this key") from exc


def headers(*, secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` sent as message `message_id` at `at`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }
