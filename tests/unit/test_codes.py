"""The codes kernel: certificate and claim numbers, item and consignment codes, check codes:
the check character, typing normalisation, and the check-code digest."""

from __future__ import annotations

import hashlib
from itertools import permutations

import pytest

from qc_app.codes import (
    ALPHABET,
    check_code_digest,
    check_code_matches,
    format_check_code,
    has_valid_check,
    is_certificate_number,
    new_certificate_number,
    new_check_code,
    new_claim_number,
    new_claim_secret,
    new_consignment_code,
    new_item_code,
    normalize,
    with_check,
)

NUMBERS = [new_certificate_number("GTC") for _ in range(200)]
KEY = b"k" * 32  # a deployment's Config.CHECK_CODE_KEY
# Luhn mod 32 cannot tell "0Z" from "Z0": doubling 0 adds 0 and doubling Z (31) adds 31,
# so swapping them leaves the sum mod 32 unchanged (as 09/90 in decimal Luhn).
BLIND_PAIR = {"0", "Z"}


def body_of(number: str) -> str:
    return number.partition("-")[2]


def substitutions(code: str) -> list[str]:
    return [
        code[:i] + c + code[i + 1 :] for i in range(len(code)) for c in ALPHABET if c != code[i]
    ]


def transpositions(code: str, skip: set[str] | None = None) -> list[str]:
    return [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1] and {code[i], code[i + 1]} != skip
    ]


def test_generated_numbers_are_well_formed() -> None:
    assert len(set(NUMBERS)) == len(NUMBERS)
    for number in NUMBERS:
        assert is_certificate_number(number), number
        assert len(body_of(number)) == 13
        assert set(body_of(number)) <= set(ALPHABET)


@pytest.mark.parametrize("make", [new_item_code, new_consignment_code], ids=["item", "consignment"])
def test_generated_codes_carry_a_valid_check(make: object) -> None:
    for _ in range(50):
        code = make()  # type: ignore[operator]
        assert has_valid_check(code[2:]), code


def test_claim_numbers_carry_a_valid_check() -> None:
    for _ in range(50):
        number = new_claim_number()
        assert number.startswith("PF-") and has_valid_check(number[3:]), number
        assert normalize(number.lower()) == number


def test_claim_secrets_are_130_bits_in_groups_of_five() -> None:
    secret = new_claim_secret()
    groups = secret.split("-")
    assert [len(g) for g in groups] == [5, 5, 5, 5, 5, 1]
    assert all(c in ALPHABET for c in "".join(groups))


def test_every_single_substitution_is_caught() -> None:
    missed = [
        (number, wrong)
        for number in NUMBERS
        for wrong in substitutions(body_of(number))
        if has_valid_check(wrong)
    ]
    assert missed == []


def test_every_single_substitution_fails_the_number_check() -> None:
    number = NUMBERS[0]
    prefix = number.partition("-")[0]
    assert not any(
        is_certificate_number(f"{prefix}-{wrong}") for wrong in substitutions(body_of(number))
    )


def test_adjacent_transpositions_are_caught_apart_from_the_blind_pair() -> None:
    missed = [
        (number, wrong)
        for number in NUMBERS
        for wrong in transpositions(body_of(number), skip=BLIND_PAIR)
        if has_valid_check(wrong)
    ]
    assert missed == []


@pytest.mark.xfail(
    strict=True,
    reason=(
        "BUG: qc_app/codes.py check_char (Luhn mod 32) misses the adjacent "
        "transposition of '0' and 'Z' (e.g. ...0Z... vs ...Z0...), about 1 number in 40"
    ),
)
@pytest.mark.parametrize("tail", ["", "M"], ids=["pair-doubled-second", "pair-doubled-first"])
def test_every_adjacent_transposition_is_caught(tail: str) -> None:
    missed = []
    for a, b in permutations(ALPHABET, 2):
        code = with_check("7K3M" + a + b + tail)
        if has_valid_check("7K3M" + b + a + tail + code[-1]):
            missed.append(a + b)
    assert missed == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("gtc-0123", "GTC-0123"),
        ("GTC-O1O1", "GTC-0101"),
        ("gtc-o1o1", "GTC-0101"),
        ("GTC-I1L1", "GTC-1111"),
        ("gtc-i1l1", "GTC-1111"),
        (" GTC - AB CD\t", "GTC-ABCD"),
    ],
)
def test_normalize_reads_look_alike_letters_as_digits(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


def test_a_number_typed_with_look_alikes_normalizes_back() -> None:
    checked = 0
    for number in NUMBERS:
        typed = number.replace("0", "O").replace("1", "l").lower()
        assert normalize(typed) == number
        assert is_certificate_number(normalize(typed))
        checked += typed != number.lower()
    assert checked > 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c,
        lambda c: format_check_code(c),
        lambda c: format_check_code(c).lower(),
        lambda c: f" {c[:4]} - {c[4:]} ".lower(),
        lambda c: c.replace("0", "O").replace("1", "I"),
    ],
    ids=["plain", "dashed", "lower dashed", "spaces", "look-alikes"],
)
def test_check_code_matches_as_typed(typed: object) -> None:
    number = NUMBERS[1]
    for _ in range(20):
        code = new_check_code()
        digest = check_code_digest(KEY, number, code)
        assert check_code_matches(KEY, number, typed(code), digest)  # type: ignore[operator]


def test_check_code_of_another_number_or_code_does_not_match() -> None:
    number, other = NUMBERS[2], NUMBERS[3]
    code = new_check_code()
    digest = check_code_digest(KEY, number, code)
    assert not check_code_matches(KEY, other, code, digest)
    assert not any(check_code_matches(KEY, number, wrong, digest) for wrong in substitutions(code))


def test_check_code_digest_needs_the_deployments_key() -> None:
    """A copy of the database without the key cannot test guesses: another key, or the bare
    SHA-256 stored before migration 0009, never gives the stored digest."""
    number, code = NUMBERS[2], new_check_code()
    digest = check_code_digest(KEY, number, code)
    assert not check_code_matches(b"another deployment", number, code, digest)
    bare = hashlib.sha256(f"qc-check-v1|{number}|{code}".encode()).hexdigest()
    assert digest != bare and code not in digest
