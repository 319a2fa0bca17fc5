"""Ed25519 signing: round trip, tamper detection, key ids and windows, URL signatures, JWKS,
and the encrypted private key at rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from qc_app.certificates import payload, signing
from qc_app.certificates.models import SigningKey
from qc_app.certificates.signing import (
    KeyOutsideWindow,
    SignatureInvalid,
    Signer,
    UnknownKey,
    Verifier,
    b64url,
    generate_key,
    jwk,
    public_key,
    unb64url,
    verifier_from_jwks,
)

PASSPHRASE = "unit-test passphrase, long enough to be realistic"
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> signing.NewKey:
    return generate_key(PASSPHRASE)


@pytest.fixture(scope="module")
def signer(key: signing.NewKey) -> Signer:
    return Signer(key.kid, key.private_pem, PASSPHRASE)


def published(key: signing.NewKey, not_after: datetime | None = END) -> signing.PublicKey:
    return public_key(key.kid, key.public_b64, START, not_after)


@pytest.fixture(scope="module")
def verifier(key: signing.NewKey) -> Verifier:
    return Verifier([published(key)])


def real_payload(number: str = "GTC-0123456789ABC") -> bytes:
    return payload.certificate_payload(
        number=number,
        item={"code": "QC123456789A", "description": "足金戒指"},
        merchant={"id": "1", "name": "甲店 Shop A"},
        listing={"id": "1", "title": "足金戒指", "brand": "金福"},
        testing_body={"code": "GTC", "name": "测试检测中心", "cma": "CMA-TEST-1"},
        material={
            "code": "AU990",
            "name_zh": "足金",
            "name_en": "Fine gold (990)",
            "declared": "AU990",
        },
        measured={"fineness_permille": "999.2", "mass_g": "5.03", "metal": "Au"},
        conclusion="pass",
        photo_sha256="ab" * 32,
        issued_at="2026-11-20T08:00:00+00:00",
        rule_version="2026.11-1",
        kid="kid-of-the-key",
    )


def test_signature_round_trip(signer: Signer, verifier: Verifier) -> None:
    data = real_payload()
    assert (
        verifier.verify(data, signer.sign(data), signer.kid, at=START + timedelta(days=1)) is None
    )


def test_every_single_byte_change_of_the_payload_is_refused(
    signer: Signer, verifier: Verifier
) -> None:
    data = real_payload()
    assert len(data) >= 200
    signature = signer.sign(data)
    accepted = []
    for position in range(len(data)):
        for mask in (0x01, 0x80):
            altered = bytearray(data)
            altered[position] ^= mask
            try:
                verifier.verify(bytes(altered), signature, signer.kid, at=None)
            except SignatureInvalid:
                continue
            accepted.append((position, mask))
    assert accepted == []


def _flip_first(signature: str) -> str:
    raw = bytearray(unb64url(signature))
    raw[0] ^= 0x01
    return b64url(bytes(raw))


ALTERED_SIGNATURES = {
    "one bit flipped": _flip_first,
    "truncated": lambda s: b64url(unb64url(s)[:-1]),
    "extended": lambda s: b64url(unb64url(s) + b"\x00"),
    "empty": lambda s: "",
    "not base64": lambda s: "*" * len(s),
}


@pytest.mark.parametrize("alter", ALTERED_SIGNATURES.values(), ids=ALTERED_SIGNATURES.keys())
def test_altered_signature_is_refused(signer: Signer, verifier: Verifier, alter: Any) -> None:
    data = real_payload()
    with pytest.raises(SignatureInvalid):
        verifier.verify(data, alter(signer.sign(data)), signer.kid, at=None)


def test_signature_over_other_data_is_refused(signer: Signer, verifier: Verifier) -> None:
    with pytest.raises(SignatureInvalid):
        verifier.verify(
            real_payload(), signer.sign(real_payload("GTC-ZZZZZZZZZZZZ0")), signer.kid, at=None
        )


def test_signature_of_another_key_is_refused(signer: Signer, key: signing.NewKey) -> None:
    other = generate_key(PASSPHRASE)
    # The other key's signature, presented under the kid of the published key.
    forged = Signer(other.kid, other.private_pem, PASSPHRASE).sign(real_payload())
    with pytest.raises(SignatureInvalid):
        Verifier([published(key)]).verify(real_payload(), forged, key.kid, at=None)


def test_unknown_kid_is_refused(signer: Signer, verifier: Verifier) -> None:
    data = real_payload()
    with pytest.raises(UnknownKey):
        verifier.verify(data, signer.sign(data), "no-such-kid", at=None)


def test_kid_must_match_the_public_key(key: signing.NewKey) -> None:
    other = generate_key(PASSPHRASE)
    with pytest.raises(UnknownKey):
        public_key(key.kid, other.public_b64, START, None)


@pytest.mark.parametrize(
    "at",
    [START - timedelta(seconds=1), END + timedelta(seconds=1), datetime(2030, 6, 1, tzinfo=UTC)],
)
def test_signing_time_outside_the_key_window_is_refused(
    signer: Signer, verifier: Verifier, at: datetime
) -> None:
    data = real_payload()
    with pytest.raises(KeyOutsideWindow):
        verifier.verify(data, signer.sign(data), signer.kid, at=at)


@pytest.mark.parametrize("at", [START, END, START + timedelta(days=100)])
def test_signing_time_inside_the_key_window_is_accepted(
    signer: Signer, verifier: Verifier, at: datetime
) -> None:
    data = real_payload()
    assert verifier.verify(data, signer.sign(data), signer.kid, at=at) is None


def test_open_ended_key_covers_any_later_time(key: signing.NewKey, signer: Signer) -> None:
    data = real_payload()
    Verifier([published(key, None)]).verify(
        data, signer.sign(data), key.kid, at=datetime(2099, 1, 1, tzinfo=UTC)
    )


# -- URL signatures ---------------------------------------------------------------------------


def test_url_signature_verifies_for_its_number(signer: Signer, verifier: Verifier) -> None:
    assert (
        verifier.verify_url("GTC-0123456789ABC", signer.sign_url("GTC-0123456789ABC"), signer.kid)
        is None
    )


@pytest.mark.parametrize(
    "other", ["GTC-0123456789ABD", "GTC-0123456789AB", "gtc-0123456789abc", "XYZ-0123456789ABC"]
)
def test_url_signature_of_another_number_is_refused(
    signer: Signer, verifier: Verifier, other: str
) -> None:
    with pytest.raises(SignatureInvalid):
        verifier.verify_url(other, signer.sign_url("GTC-0123456789ABC"), signer.kid)


def test_url_signature_is_not_a_payload_signature(signer: Signer, verifier: Verifier) -> None:
    number = "GTC-0123456789ABC"
    with pytest.raises(SignatureInvalid):
        verifier.verify(number.encode(), signer.sign_url(number), signer.kid, at=None)
    with pytest.raises(SignatureInvalid):
        verifier.verify_url(number, signer.sign(number.encode()), signer.kid)


# -- JWKS -------------------------------------------------------------------------------------


def test_jwk_describes_an_ed25519_key(key: signing.NewKey) -> None:
    entry = jwk(published(key), key.public_b64)
    assert entry == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": key.kid,
        "x": key.public_b64,
        "nbf": int(START.timestamp()),
        "exp": int(END.timestamp()),
    }


def test_jwks_round_trip_verifies_and_keeps_the_window(key: signing.NewKey, signer: Signer) -> None:
    old, rotated = published(key), generate_key(PASSPHRASE)
    doc = json.loads(
        json.dumps(
            {
                "keys": [
                    jwk(old, key.public_b64),
                    jwk(public_key(rotated.kid, rotated.public_b64, END, None), rotated.public_b64),
                ]
            }
        )
    )
    rebuilt = verifier_from_jwks(doc)
    data = real_payload()
    rebuilt.verify(data, signer.sign(data), key.kid, at=START + timedelta(days=3))
    new_signer = Signer(rotated.kid, rotated.private_pem, PASSPHRASE)
    rebuilt.verify(data, new_signer.sign(data), rotated.kid, at=END + timedelta(days=3))
    with pytest.raises(KeyOutsideWindow):
        rebuilt.verify(data, signer.sign(data), key.kid, at=END + timedelta(days=3))


def test_jwks_ignores_keys_of_other_types(key: signing.NewKey) -> None:
    doc = {
        "keys": [
            {"kty": "RSA", "kid": "rsa-1", "n": "AQAB", "e": "AQAB"},
            {**jwk(published(key), key.public_b64), "crv": "X25519"},
        ]
    }
    with pytest.raises(UnknownKey):
        verifier_from_jwks(doc).key(key.kid)


def test_jwks_with_a_kid_not_matching_its_key_is_refused(key: signing.NewKey) -> None:
    entry = {**jwk(published(key), key.public_b64), "kid": "forged-kid-00000"}
    with pytest.raises(UnknownKey):
        verifier_from_jwks({"keys": [entry]})


# -- the private key at rest ------------------------------------------------------------------


def test_generated_private_key_is_encrypted(key: signing.NewKey) -> None:
    assert key.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_stored_private_key_is_encrypted(db: Session, world: Any) -> None:
    stored = db.exec(select(SigningKey)).one()
    assert stored.private_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "BEGIN PRIVATE KEY" not in stored.private_key_pem


@pytest.mark.parametrize("passphrase", ["wrong passphrase", ""])
def test_stored_private_key_does_not_load_with_a_wrong_passphrase(
    db: Session, world: Any, passphrase: str
) -> None:
    stored = db.exec(select(SigningKey)).one()
    with pytest.raises((ValueError, TypeError)):
        Signer(stored.kid, stored.private_key_pem, passphrase)


def test_stored_private_key_loads_with_the_configured_passphrase(
    app: Flask, db: Session, world: Any
) -> None:
    stored = db.exec(select(SigningKey)).one()
    loaded = Signer(stored.kid, stored.private_key_pem, app.config["QC"].signing_passphrase())
    verifier = Verifier([public_key(stored.kid, stored.public_key, stored.not_before, None)])
    data = real_payload()
    assert verifier.verify(data, loaded.sign(data), stored.kid, at=stored.not_before) is None
