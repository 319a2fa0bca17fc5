"""units.to_decimal is the one parser of every number that comes in: bounded before any
arithmetic (1e300000 stalled a worker for seconds), exact, and refusing with ValidationFailed."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from qc_app.db import MAX_DB_INT, parse_id
from qc_app.errors import ValidationFailed
from qc_app.units import (
    CENTI,
    parse_int,
    parse_mass_g,
    parse_price_fen,
    to_decimal,
    yuan_to_fen,
)

HUGE = [
    "1e300000",
    "1E+999999999",
    "-1e300000",
    "9" * 33,
    "1" + "0" * 5000,
    Decimal("1e300000"),
    10**5000,
    1e300,
    "100000000000000000000000",  # 24 digits: over 10^20
]


@pytest.mark.no_cover  # timed: the coverage tracer's overhead is no part of what it times
@pytest.mark.parametrize("value", HUGE, ids=range(len(HUGE)))
@pytest.mark.parametrize(
    "parse",
    [
        parse_mass_g,
        parse_price_fen,
        lambda v: parse_id(v, field="listing_id"),
        lambda v: to_decimal(v, field="ri", places=Decimal("0.001")),
    ],
    ids=["mass", "fen", "id", "ri"],
)
def test_huge_numbers_are_refused_in_milliseconds(parse: Any, value: Any) -> None:
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as refused:
        parse(value)
    assert time.perf_counter() - started < 0.01
    assert refused.value.status == 422


@pytest.mark.no_cover  # timed: the coverage tracer's overhead is no part of what it times
@pytest.mark.parametrize("text", ["1e300000", "1e-300000", "9" * 5000, "0E+999999999x"])
def test_yuan_that_is_no_amount_is_passed_on_at_once(text: str) -> None:
    started = time.perf_counter()
    assert yuan_to_fen(text) == text  # the fen parser refuses it with its own message
    assert time.perf_counter() - started < 0.01
    with pytest.raises(ValidationFailed):
        parse_price_fen(yuan_to_fen(text))


@pytest.mark.parametrize(
    ("typed", "fen"), [("3280", "328000"), ("12.5", "1250"), (" 0.01 ", "1"), ("１２.５", "1250")]
)
def test_yuan_amounts_become_fen(typed: str, fen: str) -> None:
    assert yuan_to_fen(typed) == fen


@pytest.mark.parametrize("value", ["0E+999999999", "-0", "0.000", 0])
def test_any_spelling_of_zero_is_zero(value: Any) -> None:
    assert to_decimal(value, field="x", places=CENTI) == 0


def test_tiny_numbers_are_refused_as_too_precise() -> None:
    with pytest.raises(ValidationFailed, match="at most 2 decimals"):
        to_decimal("1e-300000", field="mass_g", places=CENTI)


@pytest.mark.parametrize("value", [None, True, [1], {"a": 1}, b"12", "", "NaN", "-Infinity"])
def test_what_is_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(ValidationFailed, match="must be a number"):
        to_decimal(value, field="x", places=CENTI)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("17", 17), (17, 17), (Decimal("17.0"), 17), ("1e3", 1000), (str(MAX_DB_INT), MAX_DB_INT)],
)
def test_whole_numbers(value: Any, expected: int) -> None:
    assert parse_int(value, field="n", low=0, high=MAX_DB_INT) == expected


@pytest.mark.parametrize("value", ["17.5", Decimal("0.1"), 2.5])
def test_a_fraction_is_no_whole_number(value: Any) -> None:
    with pytest.raises(ValidationFailed, match="must be a whole number"):
        parse_int(value, field="n", low=0, high=100)


@pytest.mark.parametrize("value", [0, -1, MAX_DB_INT + 1, 2**40])
def test_ids_stop_at_what_a_row_can_have(value: int) -> None:
    with pytest.raises(ValidationFailed, match="out of range"):
        parse_id(value, field="listing_id")
