"""The programme's pure parts: licence numbers, eligibility, the title check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qc_app.listings.consistency import check_title
from qc_app.merchants import programme
from qc_app.rules.engine import load_ruleset


@dataclass
class Shop:
    licence_no: str = "91440300MA5DEM0019"
    legal_rep_verified: bool = True
    categories: str = "jewelry,gold"
    serious_violations: int = 0


def failing(shop: Shop) -> list[str]:
    return [c.code for c in programme.eligibility(shop) if not c.ok]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("91440300MA5DEM0019", True),
        ("91440300ma5dem0019", True),
        ("91440300MA5DEM0018", False),  # wrong check character
        ("91440300MA5DEM001", False),  # 17 characters
        ("91440300MA5DEM00I9", False),  # I is not in the GB 32100 alphabet
        ("L-A", False),
    ],
)
def test_licence_number_check_character(code, ok):
    assert programme.valid_licence_no(code) is ok


@pytest.mark.parametrize(
    ("shop", "failed"),
    [
        (Shop(), []),
        (Shop(licence_no="123"), ["licence"]),
        (Shop(legal_rep_verified=False), ["legal_rep"]),
        (Shop(categories=""), ["categories"]),
        (Shop(categories="gold,cosmetics"), ["categories"]),
        (Shop(categories="collectibles"), []),
        (Shop(serious_violations=1), ["violations"]),
    ],
)
def test_eligibility_names_each_failed_check(shop, failed):
    assert failing(shop) == failed


def test_agreement_digest_is_sha256_of_the_chinese_text():
    """Pinned for the current version: an edit to the text that merchants sign fails here until
    the version and this digest are changed on purpose."""
    assert programme.AGREEMENT_VERSION == "2026.11"
    assert (
        programme.agreement_sha256()
        == "a38ff5bbb22f49c83bea61ce917c921037c24d8739841b0a3d623774860f483f"
    )


def kinds(title: str, code: str) -> list[tuple[str, str]]:
    return [(w.kind, w.term) for w in check_title(title, code, load_ruleset())]


@pytest.mark.parametrize(
    ("title", "code", "expected"),
    [
        ("缅甸冰种翡翠手镯", "JADEITE", [("origin", "缅甸"), ("variety", "冰种")]),
        (
            "新疆和田玉籽料洒金皮",
            "NEPHRITE",
            [("origin", "新疆"), ("variety", "籽料"), ("skin_colour", "洒金皮")],
        ),
        ("羊脂白玉平安扣", "NEPHRITE", [("variety", "羊脂白玉")]),
        ("足金项链", "AU750", [("fineness", "足金")]),
        ("千足金戒指", "AU990", [("fineness", "千足/999")]),
        ("999足金吊坠", "AU990", [("fineness", "千足/999")]),
        ("足金戒指", "AU990", []),
        ("18K金钻戒", "AU750", []),
        ("S925银手链", "AU750", [("metal", "925银")]),
        ("古法黄金手镯", "AU990", []),
    ],
)
def test_title_check(title, code, expected):
    assert kinds(title, code) == expected
