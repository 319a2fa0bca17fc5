"""The password policy (security.md §8 check 11; ASVS 6.2.1, 6.2.4, 6.2.9): 12 to 128
characters, none of the 10,000 most common passwords shipped with the project, not the user
name inside, the demo password only for the demo data."""

from __future__ import annotations

import random

import pytest

from qc_app.auth.passwords import COMMON, DEMO_PASSWORD, check_policy, common_passwords
from qc_app.errors import ValidationFailed

COMMON_IN_ORDER = [
    line
    for line in COMMON.read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("# ")
]


def refusal(password: str, username: str = "inspector1") -> str:
    with pytest.raises(ValidationFailed) as refused:
        check_policy(password, username=username)
    return refused.value.message.render("en")


def test_the_list_holds_the_10000_most_common_passwords_and_says_where_it_comes_from() -> None:
    assert len(COMMON_IN_ORDER) == len(common_passwords()) == 10_000
    assert COMMON_IN_ORDER[:4] == ["123456", "123456789", "qwerty", "password"]
    assert "Django 5.2.19" in COMMON.read_text(encoding="utf-8")[:600]


def test_seven_characters_are_refused_64_and_128_accepted() -> None:
    assert "12" in refusal("Zq7#pLm")
    check_policy("k" * 40 + "-Tr0ub4dor&3-horse-battery-staple", username="inspector1")
    for length in (64, 128):
        check_policy(("correct-horse-battery-staple-" * 5)[:length], username="inspector1")
    assert "128" in refusal("x" * 129)


def test_100_common_passwords_of_the_top_3000_are_all_refused() -> None:
    sample = random.Random(13).sample(COMMON_IN_ORDER[:3000], 100)
    refused = 0
    for password in sample:
        with pytest.raises(ValidationFailed):
            check_policy(password, username="inspector1")
        refused += 1
    assert refused == 100


def test_every_long_common_password_is_refused_as_common_whatever_its_case() -> None:
    long_ones = [p for p in COMMON_IN_ORDER if len(p) >= 12]
    assert len(long_ones) > 50
    for password in long_ones:
        assert "common" in refusal(password.upper())
    assert "common" in refusal("password1234")


@pytest.mark.parametrize("password", ["inspector1-at-the-gate", "my-INSPECTOR1-password"])
def test_a_password_containing_the_user_name_is_refused(password: str) -> None:
    assert "user name" in refusal(password)


def test_the_demo_password_only_for_the_demo_data() -> None:
    assert "common" in refusal(DEMO_PASSWORD, username="merchant9")
    check_policy(DEMO_PASSWORD, username="merchant1", demo=True)
