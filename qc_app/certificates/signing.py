"""Ed25519 signing behind a small interface with named errors (never a silent None).

Keys are identified by kid = base64url(SHA-256(raw public key))[:16]. Private keys exist only
encrypted (PKCS#8 with the key passphrase) outside this process. A signature is checked against
the key named by its kid, and the signing time must fall inside that key's validity window.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

URL_CONTEXT = b"qc-url-v1\x00"


def qr_path(number: str, kid: str, url_signature: str, page: str = "") -> str:
    """The consumer page's path a QR code carries (`page`: a sub-page such as /photo.jpg)."""
    return f"/v/{number}{page}?k={kid}&s={url_signature}"


class SignatureInvalid(Exception):
    """The signature does not match the data under the named key."""


class UnknownKey(Exception):
    """No published key has this kid."""


class KeyOutsideWindow(Exception):
    """The key was not valid for signing at the claimed time."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SignatureInvalid("not base64url") from exc


def kid_for(public_raw: bytes) -> str:
    return b64url(hashlib.sha256(public_raw).digest())[:16]


@dataclass(frozen=True)
class NewKey:
    kid: str
    public_b64: str
    private_pem: str  # encrypted


def generate_key(passphrase: str) -> NewKey:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    return NewKey(kid_for(public_raw), b64url(public_raw), pem.decode("ascii"))


class Signer:
    """Holds one decrypted private key in memory; built once per process."""

    def __init__(self, kid: str, private_pem: str, passphrase: str) -> None:
        key = serialization.load_pem_private_key(private_pem.encode(), passphrase.encode())
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("signing key is not Ed25519")
        self.kid = kid
        self._key = key

    def sign(self, data: bytes) -> str:
        return b64url(self._key.sign(data))

    def sign_url(self, number: str) -> str:
        return self.sign(URL_CONTEXT + number.encode("utf-8"))


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: Ed25519PublicKey
    not_before: datetime
    not_after: datetime | None

    def covers(self, at: datetime) -> bool:
        return self.not_before <= at and (self.not_after is None or at <= self.not_after)


def public_key(
    kid: str, public_b64: str, not_before: datetime, not_after: datetime | None
) -> PublicKey:
    raw = unb64url(public_b64)
    if kid_for(raw) != kid:
        raise UnknownKey(f"kid {kid} does not match its public key")
    return PublicKey(kid, Ed25519PublicKey.from_public_bytes(raw), not_before, not_after)


class Verifier:
    def __init__(self, keys: list[PublicKey]) -> None:
        self._keys = {k.kid: k for k in keys}

    def key(self, kid: str) -> PublicKey:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKey(f"unknown key id {kid!r}") from None

    def verify(self, data: bytes, signature_b64: str, kid: str, *, at: datetime | None) -> None:
        """Raise unless `data` was signed by `kid`, and (when `at` is given) within its window."""
        key = self.key(kid)
        try:
            key.key.verify(unb64url(signature_b64), data)
        except InvalidSignature:
            raise SignatureInvalid("signature does not match") from None
        if at is not None and not key.covers(at):
            raise KeyOutsideWindow(f"key {kid} was not valid for signing at {at.isoformat()}")

    def verify_url(self, number: str, signature_b64: str, kid: str) -> None:
        self.verify(URL_CONTEXT + number.encode("utf-8"), signature_b64, kid, at=None)


def jwk(key: PublicKey, public_b64: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": key.kid,
        "x": public_b64,
        "nbf": int(key.not_before.timestamp()),
    }
    if key.not_after is not None:
        entry["exp"] = int(key.not_after.timestamp())
    return entry


def verifier_from_jwks(doc: dict[str, Any]) -> Verifier:
    from datetime import UTC

    keys = []
    for entry in doc.get("keys", []):
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        exp = entry.get("exp")
        keys.append(
            public_key(
                entry["kid"],
                entry["x"],
                datetime.fromtimestamp(entry["nbf"], UTC),
                datetime.fromtimestamp(exp, UTC) if exp is not None else None,
            )
        )
    return Verifier(keys)
