"""The one definition of the signed bytes; issuer and verifier both call it.

Canonical JSON: keys sorted, no spaces, UTF-8, strings NFC-normalised, and no floats at all
(mass and fineness are decimal strings), so the bytes never depend on who serialises them.
Parsing refuses duplicate keys, which plain json.loads would silently accept.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

FORMAT = "qc-cert/1"


class PayloadError(ValueError):
    """The payload is not canonical or not well formed."""


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        raise PayloadError("floats are not allowed in signed data; use decimal strings")
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) and k.isascii() for k in value):
            raise PayloadError("payload keys must be ASCII strings")
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if value is None or isinstance(value, bool | int):
        return value
    raise PayloadError(f"unsupported type in payload: {type(value).__name__}")


def canonical(obj: dict[str, Any]) -> bytes:
    text = json.dumps(_normalise(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a "\ud800" escape
        raise PayloadError("payload text is not valid Unicode") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PayloadError(f"duplicate key in payload: {key}")
        result[key] = value
    return result


def parse(data: bytes) -> dict[str, Any]:
    """Parse signed bytes; they must already be canonical (re-serialising gives the same bytes)."""
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise PayloadError("not a qc certificate payload")
    if canonical(obj) != data:
        raise PayloadError("payload bytes are not canonical")
    return obj


def certificate_payload(
    *,
    number: str,
    item: dict[str, Any],
    merchant: dict[str, Any],
    listing: dict[str, Any],
    testing_body: dict[str, Any],
    material: dict[str, Any],
    measured: dict[str, str],
    conclusion: str,
    photo_sha256: str | None,
    issued_at: str,
    rule_version: str,
    kid: str,
    components: list[dict[str, Any]] | None = None,
    grading: dict[str, Any] | None = None,
    proof: dict[str, Any] | None = None,
) -> bytes:
    """A set piece adds `components` (each part's declaration, name, result and readings), a
    graded diamond `grading` (GB/T 16554), an item received with the proof of this very piece
    `proof` (signed_proof); certificates without them keep their old bytes."""
    optional = {"components": components, "grading": grading, "proof": proof}
    return canonical(
        {
            **{key: value for key, value in optional.items() if value is not None},
            "format": FORMAT,
            "number": number,
            "item": item,
            "merchant": merchant,
            "listing": listing,
            "testing_body": testing_body,
            "material": material,
            "measured": measured,
            "conclusion": conclusion,
            "photo_sha256": photo_sha256,
            "issued_at": issued_at,
            "rule_version": rule_version,
            "kid": kid,
        }
    )


def signed_proof(
    photos: Sequence[tuple[str, str]],
    dimensions: Mapping[str, str] | None,
    no_photo: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The proof of this very piece as signed: the intake photos' SHA-256 by view, in the
    order taken, and the identifying dimensions as exact text; for an item received without
    photos, the recorded reason (`no_photo`: reason code and note, NFC text); None when there
    is none of them."""
    if not photos and not dimensions and not no_photo:
        return None
    signed: dict[str, Any] = {
        "photos": [{"view": view, "sha256": digest} for view, digest in photos],
        "dimensions": dict(dimensions or {}),
    }
    if no_photo:
        signed["no_photo"] = dict(no_photo)
    return signed


def signed_parts(parts: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    """A set piece's components as signed: declaration, name, result and readings, as text
    (the inspection's stored parts; the reasons stay with the inspection)."""
    if not parts:
        return None
    return [
        {
            "index": int(part["index"]),
            "declared": {k: str(v) for k, v in part["declared"].items()},
            "name_zh": part["name_zh"],
            "name_en": part["name_en"],
            "result": part["verdict"],
            "measured": {
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in part["measured"].items()
                if k != "observations"
            },
            "grading": dict(part["grading"]) if part.get("grading") else None,
            # A bead string's beads not as declared: only when there are any (shape kept).
            **(
                {
                    "beads_not_as_declared": [
                        {"count": g["count"], "name_zh": g["name_zh"], "name_en": g["name_en"]}
                        for g in part["beads_not_as_declared"]
                    ]
                }
                if part.get("beads_not_as_declared")
                else {}
            ),
        }
        for part in parts
    ]
