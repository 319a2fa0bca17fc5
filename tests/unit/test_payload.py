"""The one definition of the signed bytes: canonical JSON, and the strict parser."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc_app.certificates.payload import FORMAT, PayloadError, canonical, certificate_payload, parse

NFC = "甲店 Café 한국어 Ångström"
NFD = unicodedata.normalize("NFD", NFC)


def sample() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "number": "GTC-0123456789ABC",
        "material": {"name_zh": "足金", "code": "AU990"},
        "measured": {"mass_g": "5.03"},
        "flags": [True, False, None],
        "count": 3,
    }


def test_keys_are_sorted_at_every_level_without_spaces() -> None:
    assert canonical({"b": 1, "a": {"d": [2, {"f": 0, "e": 1}], "c": 3}}) == (
        b'{"a":{"c":3,"d":[2,{"e":1,"f":0}]},"b":1}'
    )


def test_text_is_raw_utf8_not_escaped() -> None:
    assert canonical({"name": "足金"}) == '{"name":"足金"}'.encode()


@pytest.mark.parametrize(
    "wrap",
    [lambda s: {"v": s}, lambda s: {"v": [s]}, lambda s: {"v": {"w": s}}],
    ids=["value", "list", "nested"],
)
def test_nfd_text_gives_the_same_bytes_as_nfc(wrap: Any) -> None:
    assert NFC != NFD
    assert canonical(wrap(NFD)) == canonical(wrap(NFC))


@pytest.mark.parametrize(
    "obj",
    [{"v": 999.2}, {"v": 1.0}, {"v": [1, 2.5]}, {"v": {"w": float("nan")}}],
    ids=["float", "integral", "list", "nested"],
)
def test_floats_are_refused(obj: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        canonical(obj)


@pytest.mark.parametrize(
    "obj",
    [{"v": Decimal("999.2")}, {"v": {1, 2}}, {"v": b"bytes"}, {"质量": "5.03"}, {1: "int key"}],
    ids=["decimal", "set", "bytes", "non-ascii key", "int key"],
)
def test_unsupported_values_and_keys_are_refused(obj: dict[Any, Any]) -> None:
    with pytest.raises(PayloadError):
        canonical(obj)


def test_certificate_payload_parses_back() -> None:
    data = certificate_payload(
        number="GTC-0123456789ABC",
        item={"code": "QC1", "description": ""},
        merchant={"id": "1", "name": NFD},
        listing={"id": "1", "title": "足金", "brand": ""},
        testing_body={"code": "GTC", "name": "测试", "cma": "CMA-1"},
        material={"code": "AU990"},
        measured={"mass_g": "5.03"},
        conclusion="pass",
        photo_sha256=None,
        issued_at="2026-11-20T08:00:00+00:00",
        rule_version="2026.11-1",
        kid="k1",
    )
    parsed = parse(data)
    assert parsed["format"] == FORMAT
    assert parsed["merchant"]["name"] == NFC
    assert parsed["photo_sha256"] is None


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":2,"format":"qc-cert/1"}',
        b'{"format":"qc-cert/1","x":{"k":1,"k":1}}',
        b'{"format":"qc-cert/1","format":"qc-cert/1"}',
    ],
    ids=["top", "nested", "format twice"],
)
def test_parse_refuses_duplicate_keys(data: bytes) -> None:
    with pytest.raises(PayloadError, match="duplicate"):
        parse(data)


NON_CANONICAL = {
    "spaces": lambda d: json.dumps(d, sort_keys=True, ensure_ascii=False).encode(),
    "unsorted": lambda d: json.dumps(
        dict(reversed(list(d.items()))), separators=(",", ":"), ensure_ascii=False
    ).encode(),
    "ascii escapes": lambda d: json.dumps(d, sort_keys=True, separators=(",", ":")).encode(),
    "nfd text": lambda d: canonical(d).replace(NFC.encode(), NFD.encode()),
    "trailing newline": lambda d: canonical(d) + b"\n",
    "leading space": lambda d: b" " + canonical(d),
    "utf-8 bom": lambda d: b"\xef\xbb\xbf" + canonical(d),
    "float form": lambda d: canonical(d).replace(b'"count":3', b'"count":3.0'),
    "exponent": lambda d: canonical(d).replace(b'"count":3', b'"count":3e0'),
}


@pytest.mark.parametrize("mangle", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_parse_refuses_non_canonical_bytes(mangle: Any) -> None:
    original = {**sample(), "shop": NFC}
    data = mangle(original)
    assert data != canonical(original)
    with pytest.raises(PayloadError):
        parse(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"not json",
        b"[]",
        b'"text"',
        b'{"format":"qc-cert/2"}',
        b'{"number":"GTC-1"}',
    ],
)
def test_parse_refuses_what_is_not_a_payload(data: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(data)


@pytest.mark.parametrize(
    "call",
    [lambda: canonical({"v": "\ud800"}), lambda: parse(b'{"format":"qc-cert/1","v":"\\ud800"}')],
    ids=["canonical", "parse"],
)
def test_lone_surrogate_is_a_payload_error(call: Any) -> None:
    with pytest.raises(PayloadError):
        call()


# -- property: any payload of text, integers, booleans and nesting ----------------------------

ASCII_KEYS = st.text(st.characters(codec="ascii"), max_size=8)
NFC_TEXT = st.text(max_size=12).map(lambda s: unicodedata.normalize("NFC", s))
SCALARS = st.one_of(NFC_TEXT, st.integers(), st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(ASCII_KEYS, inner, max_size=4)
    ),
    max_leaves=24,
)
PAYLOADS = st.dictionaries(ASCII_KEYS, VALUES, max_size=6).map(lambda d: {**d, "format": FORMAT})


@settings(database=None, deadline=None, max_examples=300)
@given(PAYLOADS)
def test_random_payloads_canonicalize_deterministically_and_parse_back(obj: dict[str, Any]) -> None:
    data = canonical(obj)
    assert canonical(dict(reversed(list(obj.items())))) == data
    assert canonical(json.loads(data)) == data
    assert parse(data) == obj
