"""Set pieces and graded diamonds through the rules engine: declared components in, each
component measured, the piece's name, verdict and reasons out (issue 19).

Names follow `set_naming` in the rules file (GB/T 16552-2017 §5.5 as recalled, tagged R):
metal first, 镶 before jade, organic or qualified stones, then the article type.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc_app.errors import ValidationFailed
from qc_app.rules import pieces
from qc_app.rules.engine import load_ruleset
from qc_app.rules.grading import carat_of

RULES = load_ruleset("2026.11-3")

GOLD18 = {"metal": "Au", "fineness_permille": "751.2", "stamp": "18K"}
GOLD18_LOW = {"metal": "Au", "fineness_permille": "735.0", "stamp": "18K"}
GOLD_FULL = {"metal": "Au", "fineness_permille": "999.1", "stamp": "足金"}
PT950 = {"metal": "Pt", "fineness_permille": "951.0", "stamp": "PT950"}
SILVER925 = {"metal": "Ag", "fineness_permille": "925.5", "stamp": "S925"}
DIA = {"growth": "natural"}
CVD = {"growth": "cvd"}
MOISS = {"growth": "simulant", "species": "moissanite"}
JADEITE = {"species": "jadeite"}
JADEITE_B = {"species": "jadeite", "ir_polymer": True}
NEPHRITE = {"species": "nephrite"}
RUBY = {"species": "ruby", "growth": "natural"}
SAPPHIRE = {"species": "sapphire", "growth": "natural"}
GLASS = {"species": "glass"}
GLASS_GEM = {"species": "glass", "growth": "natural"}
AMBER = {"species": "amber"}
PEARL = {"species": "pearl_freshwater"}
STRING = "NEPHRITE count=108 bead_diameter_mm=8.0"  # a 108-bead 和田玉手串


@dataclass(frozen=True)
class Case:
    id: str
    article: str
    declared: str  # the form's spelling
    parts: list[dict[str, Any]]
    name_zh: str
    verdict: str
    decisive: frozenset[str]
    mass: str = "3.20"
    measured_mass: str = "3.21"


def case(
    id: str,
    article: str,
    declared: str,
    parts: list[dict[str, Any]],
    name: str,
    verdict: str,
    *decisive: str,
    mass: str = "3.20",
    measured: str = "3.21",
) -> Case:
    return Case(id, article, declared, parts, name, verdict, frozenset(decisive), mass, measured)


CASES = [
    case(
        "18k-diamond-ring",
        "ring",
        "AU750 stamp=18K; DIAMOND carat=0.30",
        [GOLD18, {**DIA, "diamond_mass_g": "0.0600"}],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "18k-diamond-ring-no-stamp-declared",
        "ring",
        "AU750; DIAMOND",
        [GOLD18, DIA],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "gold-jadeite-pendant",
        "pendant",
        "AU990 stamp=足金; JADEITE",
        [GOLD_FULL, JADEITE],
        "足金镶翡翠吊坠",
        "pass",
    ),
    case(
        "gold-nephrite-pendant",
        "pendant",
        "AU990; NEPHRITE",
        [GOLD_FULL, NEPHRITE],
        "足金镶和田玉吊坠",
        "pass",
    ),
    case(
        "pt950-diamond-necklace",
        "necklace",
        "PT950 stamp=PT950; DIAMOND count=12",
        [PT950, {**DIA, "count": "12"}],
        "铂950钻石项链",
        "pass",
    ),
    case(
        "ruby-diamond-ring",
        "ring",
        "AU750; RUBY; DIAMOND count=6",
        [GOLD18, RUBY, {**DIA, "count": "6"}],
        "18K金红宝石、钻石戒指",
        "pass",
    ),
    case(
        "three-stones-named-with-deng",
        "brooch",
        "AU750; RUBY; SAPPHIRE; DIAMOND count=20",
        [GOLD18, RUBY, SAPPHIRE, DIA],
        "18K金红宝石、蓝宝石等胸针",
        "pass",
    ),
    case(
        "nephrite-bead-bracelet",
        "bead_bracelet",
        "NEPHRITE count=18 bead_diameter_mm=8.0",
        [{**NEPHRITE, "count": "18", "bead_diameter_mm": "8.0"}],
        "和田玉手串",
        "pass",
    ),
    case(
        "amber-bead-bracelet",
        "bead_bracelet",
        "AMBER count=108",
        [{**AMBER, "count": "108"}],
        "琥珀手串",
        "pass",
    ),
    # Mixed strings: every bead is as declared unless the analyst records groups that are not.
    case(
        "string-every-bead-as-declared",
        "bead_bracelet",
        STRING,
        [{**NEPHRITE, "count": "108", pieces.GROUPS: []}],
        "和田玉手串",
        "pass",
    ),
    case(
        "string-3-glass-of-108",
        "bead_bracelet",
        STRING,
        [{**NEPHRITE, pieces.GROUPS: [{"count": "3", "species": "glass"}]}],
        "和田玉、玻璃手串",
        "fail",
        "beads_not_as_declared",
    ),
    case(
        "string-glass-and-dyed-quartzite",
        "bead_bracelet",
        STRING,
        [
            {
                **NEPHRITE,
                pieces.GROUPS: [
                    {"count": "3", "species": "glass"},
                    {"count": "2", "species": "quartzite", "dye": True},
                ],
            }
        ],
        "和田玉、玻璃等手串",
        "fail",
        "beads_not_as_declared",
    ),
    case(
        "jadeite-string-one-b-bead",
        "necklace",
        "JADEITE count=60 bead_diameter_mm=6.0",
        [{**JADEITE, pieces.GROUPS: [{"count": "1", "species": "jadeite", "ir_polymer": True}]}],
        "翡翠、翡翠（处理）项链",
        "fail",
        "beads_not_as_declared",
    ),
    case(
        "gold-bracelet-nephrite-beads-2-glass",
        "bracelet",
        "AU750 stamp=18K; NEPHRITE count=20 bead_diameter_mm=6.0",
        [GOLD18, {**NEPHRITE, pieces.GROUPS: [{"count": "2", "species": "glass"}]}],
        "18K金镶和田玉、玻璃手链",
        "fail",
        "beads_not_as_declared",
    ),
    case("jadeite-bangle-alone", "bangle", "JADEITE", [JADEITE], "翡翠手镯", "pass"),
    case("gold-ring-metal-only", "ring", "AU990 stamp=足金", [GOLD_FULL], "足金戒指", "pass"),
    case(
        "silver-pearl-earrings",
        "earrings",
        "AG925 stamp=S925; PEARL count=2",
        [SILVER925, {**PEARL, "count": "2"}],
        "银925镶淡水养殖珍珠耳饰",
        "pass",
    ),
    case(
        "treated-jadeite-declared-treated",
        "pendant",
        "AU750; JADEITE_TREATED",
        [GOLD18, JADEITE_B],
        "18K金镶翡翠（处理）吊坠",
        "pass",
    ),
    case(
        "synthetic-diamond-declared",
        "ring",
        "AU750; SYN_DIAMOND",
        [GOLD18, CVD],
        "18K金镶合成钻石戒指",
        "pass",
    ),
    # failures: each names its component
    case(
        "lab-grown-sold-as-diamond",
        "ring",
        "AU750 stamp=18K; DIAMOND",
        [GOLD18, CVD],
        "18K金镶合成钻石戒指",
        "fail",
        "synthetic_not_declared",
    ),
    case(
        "moissanite-sold-as-diamond",
        "ring",
        "AU750; DIAMOND",
        [GOLD18, MOISS],
        "18K金合成碳化硅戒指",
        "fail",
        "material_mismatch",
    ),
    case(
        "glass-sold-as-ruby",
        "ring",
        "AU750; RUBY; DIAMOND",
        [GOLD18, GLASS_GEM, DIA],
        "18K金玻璃、钻石戒指",
        "fail",
        "material_mismatch",
    ),
    case(
        "b-jade-sold-as-a",
        "pendant",
        "AU990; JADEITE",
        [GOLD_FULL, JADEITE_B],
        "足金镶翡翠（处理）吊坠",
        "fail",
        "treated_not_declared",
    ),
    case(
        "18k-below-grade",
        "ring",
        "AU750 stamp=18K; DIAMOND",
        [GOLD18_LOW, DIA],
        "14K金钻石戒指",
        "fail",
        "fineness_below_declared",
        "stamp_overstates",
    ),
    case(
        "metal-is-silver",
        "ring",
        "AU750; DIAMOND",
        [SILVER925, DIA],
        "银925钻石戒指",
        "fail",
        "metal_mismatch",
    ),
    case(
        "stamp-not-as-declared",
        "ring",
        "AU750 stamp=18K; DIAMOND",
        [{**GOLD18, "stamp": "AU750"}, DIA],
        "18K金钻石戒指",
        "fail",
        "stamp_not_as_declared",
    ),
    case(
        "stamp-missing",
        "ring",
        "AU750 stamp=18K; DIAMOND",
        [{"metal": "Au", "fineness_permille": "751.2"}, DIA],
        "18K金钻石戒指",
        "fail",
        "stamp_missing",
    ),
    case(
        "stamp-spacing-ignored",
        "ring",
        "AU750 stamp=18K; DIAMOND",
        [{**GOLD18, "stamp": "18 K"}, DIA],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "side-stones-missing",
        "necklace",
        "PT950; DIAMOND count=12",
        [PT950, {**DIA, "count": "11"}],
        "铂950钻石项链",
        "fail",
        "count_mismatch",
    ),
    case(
        "beads-missing",
        "bead_bracelet",
        "NEPHRITE count=18",
        [{**NEPHRITE, "count": "17"}],
        "和田玉手串",
        "fail",
        "count_mismatch",
    ),
    case(
        "carat-short",
        "ring",
        "AU750; DIAMOND carat=0.50",
        [GOLD18, {**DIA, "carat": "0.45"}],
        "18K金钻石戒指",
        "fail",
        "carat_short",
    ),
    case(
        "carat-from-grams-nine-rounds-up",
        "ring",
        "AU750; DIAMOND carat=0.30",
        [GOLD18, {**DIA, "diamond_mass_g": "0.0598"}],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "carat-from-grams-eight-drops",
        "ring",
        "AU750; DIAMOND carat=0.30",
        [GOLD18, {**DIA, "diamond_mass_g": "0.0597"}],
        "18K金钻石戒指",
        "fail",
        "carat_short",
    ),
    case(
        "carat-above-declared",
        "ring",
        "AU750; DIAMOND carat=0.30",
        [GOLD18, {**DIA, "carat": "0.31"}],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "total-mass-short",
        "ring",
        "AU750; DIAMOND",
        [GOLD18, DIA],
        "18K金钻石戒指",
        "fail",
        "mass_short",
        mass="3.20",
        measured="3.10",
    ),
    case(
        "gold-no-shortfall-allowed",
        "pendant",
        "AU990; JADEITE",
        [GOLD_FULL, JADEITE],
        "足金镶翡翠吊坠",
        "fail",
        "mass_short",
        mass="5.00",
        measured="4.99",
    ),
    case(
        "platinum-within-balance",
        "necklace",
        "PT950; DIAMOND",
        [PT950, DIA],
        "铂950钻石项链",
        "pass",
        mass="5.00",
        measured="4.99",
    ),
    case(
        "two-parts-fail",
        "ring",
        "AU750 stamp=18K; RUBY; DIAMOND",
        [GOLD18_LOW, GLASS_GEM, CVD],
        "14K金镶玻璃、合成钻石戒指",
        "fail",
        "fineness_below_declared",
        "stamp_overstates",
        "material_mismatch",
        "synthetic_not_declared",
    ),
    case(
        "fineness-above-declared-recorded",
        "ring",
        "AU585; DIAMOND",
        [GOLD18, DIA],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "jadeite-bangle-is-glass",
        "bangle",
        "JADEITE",
        [GLASS],
        "玻璃手镯",
        "fail",
        "material_mismatch",
    ),
    case(
        "pearl-hanging",
        "hanging",
        "AU750; PEARL",
        [GOLD18, PEARL],
        "18K金镶淡水养殖珍珠挂件",
        "pass",
    ),
    case("nephrite-ornament", "ornament", "NEPHRITE", [NEPHRITE], "和田玉摆件", "pass"),
    case("gold-bracelet-no-stones", "bracelet", "AU990", [GOLD_FULL], "足金手链", "pass"),
    # graded diamonds set in a piece (GB/T 16554 set stones 0.20–1.00 ct, coarser groups)
    case(
        "graded-set-diamond",
        "ring",
        "AU750; DIAMOND carat=0.50",
        [GOLD18, {**DIA, "carat": "0.50", "colour_grade": "H", "clarity_grade": "VS1"}],
        "18K金钻石戒指",
        "pass",
    ),
    case(
        "graded-set-diamond-short",
        "ring",
        "AU750; DIAMOND carat=0.50",
        [GOLD18, {**DIA, "carat": "0.48", "colour_grade": "F", "clarity_grade": "IF"}],
        "18K金钻石戒指",
        "fail",
        "carat_short",
    ),
    case(
        "graded-pt-solitaire",
        "ring",
        "PT950 stamp=PT950; DIAMOND carat=1.00",
        [
            PT950,
            {
                **DIA,
                "diamond_mass_g": "0.2000",
                "colour_grade": "D",
                "clarity_grade": "FL",
                "round_brilliant": True,
                "cut_grade": "excellent",
            },
        ],
        "铂950钻石戒指",
        "pass",
    ),
]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_set_piece_case(c: Case) -> None:
    article, declared = pieces.parse_declared(RULES, c.article, c.declared)
    raw = {"mass_g": c.measured_mass, "components": c.parts}
    piece, parts, groups = pieces.validate_piece(RULES, declared, raw)
    judgement = pieces.judge_piece(
        RULES,
        article_type=article or "",
        declared=declared,
        declared_mass_g=Decimal(c.mass),
        piece=piece,
        parts=parts,
        groups=groups,
    )
    assert (judgement.name_zh, judgement.verdict) == (c.name_zh, c.verdict)
    assert {r.code for r in judgement.reasons if r.decisive} == c.decisive
    failed = {p.index for p in judgement.parts if p.verdict == "fail"}
    for reason in judgement.reasons:
        if reason.decisive and reason.code != "mass_short":
            assert reason.zh.startswith("组成部分 "), reason.zh  # the component is named
            assert int(reason.zh.split()[1].split("（")[0]) in failed


def test_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def test_english_name_of_a_set_piece() -> None:
    _article, declared = pieces.parse_declared(RULES, "ring", "AU750; DIAMOND")
    piece, parts, _groups = pieces.validate_piece(
        RULES, declared, {"mass_g": "3", "components": [GOLD18, DIA]}
    )
    judged = pieces.judge_piece(
        RULES,
        article_type="ring",
        declared=declared,
        declared_mass_g=Decimal(3),
        piece=piece,
        parts=parts,
    )
    assert judged.name_en == "18K gold ring set with diamond"


def test_the_naming_rule_carries_its_source_and_the_recall_tag() -> None:
    naming = RULES.raw["set_naming"]
    assert naming["confidence"] == "R"
    assert naming["tag"] == "recalled until checked against GB/T 16552-2017 §5.5"


@pytest.mark.parametrize(
    ("grams", "carat"),
    [
        ("0.0598", "0.30"),
        ("0.0597", "0.29"),
        ("0.0400", "0.20"),
        ("0.1999", "1.00"),
        ("0.1998", "1.00"),
        ("0.2018", "1.01"),
        ("0.0019", "0.01"),
        ("0.1996", "0.99"),
    ],
)
def test_carat_from_a_four_decimal_gram_reading(grams: str, carat: str) -> None:
    assert carat_of(Decimal(grams)) == Decimal(carat)


@pytest.mark.parametrize(
    ("article", "components", "problem"),
    [
        ("ring", "AU750 stamp=18K; PT950", "金属"),
        (None, "AU750; DIAMOND", "款式"),
        ("cup", "AU750", "款式"),
        ("ring", "AU750 count=2", "不适用"),
        ("ring", "JADEITE carat=1.00", "克拉"),
        ("ring", "DIAMOND count=0", "数量"),
        ("ring", "NEPHRITE bead_diameter_mm=80", "珠径"),
        ("ring", "XX999", "材质代码"),
        ("ring", "AU750 18K", "键=值"),
        ("ring", [{"stamp": "18K"}], "材质代码"),
        ("ring", "AU750 stamp=" + "K" * 41, "印记"),
        ("ring", ["AU750"], "对象数组"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_reason(
    article: str | None, components: Any, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        pieces.parse_declared(RULES, article, components)
    assert problem in refused.value.message.render("zh")


def test_an_item_without_components_declares_as_today() -> None:
    assert pieces.parse_declared(RULES, None, None) == (None, [])
    assert pieces.parse_declared(RULES, "ring", "") == ("ring", [])


def test_the_lab_measures_every_declared_component() -> None:
    _article, declared = pieces.parse_declared(RULES, "ring", "AU750; DIAMOND")
    with pytest.raises(ValidationFailed):
        pieces.validate_piece(RULES, declared, {"mass_g": "3", "components": [GOLD18]})
    with pytest.raises(ValidationFailed) as refused:
        pieces.validate_piece(RULES, declared, {"mass_g": "3", "components": [GOLD18, "x"]})
    assert "组成部分 2" in refused.value.message.render("zh")
    with pytest.raises(ValidationFailed) as refused:
        pieces.validate_piece(
            RULES,
            declared,
            {
                "mass_g": "3",
                "components": [GOLD18, {"growth": "natural", "fineness_permille": "1"}],
            },
        )
    assert "组成部分 2" in refused.value.message.render("zh")


# -- properties over components ----------------------------------------------------------------

METALS = {"AU750": GOLD18, "AU990": GOLD_FULL, "PT950": PT950, "AG925": SILVER925}
STONES = {
    "DIAMOND": [DIA, CVD, MOISS],
    "JADEITE": [JADEITE, JADEITE_B, GLASS],
    "NEPHRITE": [NEPHRITE, GLASS],
    "RUBY": [RUBY, GLASS_GEM, SAPPHIRE],
    "AMBER": [AMBER],
}


@st.composite
def set_pieces(draw: st.DrawFn) -> tuple[str, str, list[dict[str, Any]]]:
    article = draw(st.sampled_from(sorted(pieces.articles(RULES))))
    parts, measured = [], []
    if draw(st.booleans()):
        code = draw(st.sampled_from(sorted(METALS)))
        parts.append(code)
        measured.append(draw(st.sampled_from(list(METALS.values()))))
    for code in draw(
        st.lists(st.sampled_from(sorted(STONES)), min_size=0 if parts else 1, max_size=4)
    ):
        parts.append(code)
        measured.append(draw(st.sampled_from(STONES[code])))
    return article, "; ".join(parts), measured


@settings(max_examples=150, deadline=None)
@given(set_pieces(), st.sampled_from(["2.00", "3.20", "9.99"]))
def test_any_set_piece_is_named_from_the_vocabulary_and_any_failed_part_fails_it(
    piece: tuple[str, str, list[dict[str, Any]]], measured_mass: str
) -> None:
    article, text, measured = piece
    _article, declared = pieces.parse_declared(RULES, article, text)
    values, parts, _groups = pieces.validate_piece(
        RULES, declared, {"mass_g": measured_mass, "components": measured}
    )
    judged = pieces.judge_piece(
        RULES,
        article_type=article,
        declared=declared,
        declared_mass_g=Decimal("3.20"),
        piece=values,
        parts=parts,
    )
    vocabulary = RULES.vocabulary()
    assert all(part.outcome.name_zh in vocabulary for part in judged.parts)
    assert judged.name_zh.endswith(pieces.articles(RULES)[article]["zh"])
    if any(part.verdict == "fail" for part in judged.parts):
        assert judged.verdict == "fail"
    if judged.verdict == "pass":
        assert all(part.verdict == "pass" for part in judged.parts)


def ring_judged(metal: dict[str, Any], total: str) -> Any:
    """An 18K ring with a diamond declared at 3.20 g, weighed whole at `total`."""
    _article, declared = pieces.parse_declared(RULES, "ring", "AU750; DIAMOND")
    piece, parts, _groups = pieces.validate_piece(
        RULES, declared, {"mass_g": total, "components": [metal, DIA]}
    )
    return pieces.judge_piece(
        RULES,
        article_type="ring",
        declared=declared,
        declared_mass_g=Decimal("3.20"),
        piece=piece,
        parts=parts,
    )


def test_the_total_mass_is_what_is_compared_with_the_declaration() -> None:
    """Issue 19: a metal mass weighed without the stones is recorded, never compared: the
    declaration is of the whole piece, so only the total decides."""
    judged = ring_judged({**GOLD18, "mass_g": "2.10"}, total="3.21")
    assert judged.verdict == "pass"
    assert judged.parts[0].measured["mass_g"] == Decimal("2.10")
    short = ring_judged({**GOLD18, "mass_g": "3.20"}, total="3.10")
    assert [r.code for r in short.reasons if r.decisive] == ["mass_short"]


def test_a_metal_mass_not_weighed_is_never_estimated() -> None:
    """No metal mass typed: none is derived from the total minus the stones."""
    judged = ring_judged(GOLD18, total="3.21")
    assert "mass_g" not in judged.parts[0].measured
    assert "mass_g" not in judged.parts[0].as_dict()["measured"]
    assert pieces.part_fields(RULES, "AU750")["mass_g"]["required"] is False
    assert pieces.piece_fields(RULES)["mass_g"]["required"] is True


def test_every_bad_field_of_a_set_piece_is_named_at_once() -> None:
    _article, declared = pieces.parse_declared(RULES, "ring", "AU750; DIAMOND")
    with pytest.raises(ValidationFailed) as refused:
        pieces.validate_piece(
            RULES,
            declared,
            {
                "mass_g": "",
                "components": [{"metal": "Au", "fineness_permille": "7510"}, {"growth": "x"}],
            },
        )
    assert set(refused.value.fields) == {"mass_g", "c1-fineness_permille", "c2-growth"}
    assert refused.value.fields["c1-fineness_permille"].render("zh").startswith("组成部分 1：")


# -- bead strings: beads not as declared (issue 19) -------------------------------------------


def string_judged(groups: list[dict[str, Any]], **measured: Any) -> Any:
    _article, declared = pieces.parse_declared(RULES, "bead_bracelet", STRING)
    part = {**NEPHRITE, **measured, pieces.GROUPS: groups}
    piece, parts, found = pieces.validate_piece(
        RULES, declared, {"mass_g": "60.0", "components": [part]}
    )
    return pieces.judge_piece(
        RULES,
        article_type="bead_bracelet",
        declared=declared,
        declared_mass_g=Decimal("60.0"),
        piece=piece,
        parts=parts,
        groups=found,
    )


def test_beads_not_as_declared_fail_the_string_with_what_and_how_many() -> None:
    judged = string_judged([{"count": "3", "species": "glass"}])
    (reason,) = [r for r in judged.reasons if r.decisive]
    assert reason.zh == "组成部分 1（和田玉）：108 颗中 3 颗为玻璃"
    assert reason.en == "Component 1 (Nephrite (Hetian jade)): 3 of 108 beads are Glass"
    assert judged.name_en == "Nephrite (hetian jade), glass bead bracelet"
    (group,) = judged.parts[0].as_dict()["beads_not_as_declared"]
    assert group == {
        "count": "3",
        "measured": {"species": "glass"},
        "name_zh": "玻璃",
        "name_en": "Glass",
    }


def test_the_lab_count_is_the_string_the_groups_are_counted_in() -> None:
    judged = string_judged([{"count": "2", "species": "glass"}], count="107")
    assert [r.zh for r in judged.reasons if r.decisive] == [
        "组成部分 1（和田玉）：申报 108 粒，实测 107 粒",
        "组成部分 1（和田玉）：107 颗中 2 颗为玻璃",
    ]


def test_a_string_with_every_bead_as_declared_keeps_no_groups() -> None:
    judged = string_judged([])
    assert (judged.name_zh, judged.verdict) == ("和田玉手串", "pass")
    assert "beads_not_as_declared" not in judged.parts[0].as_dict()


@pytest.mark.parametrize(
    ("groups", "measured", "field", "problem"),
    [
        ([{"count": "108", "species": "glass"}], {}, "c1-g1-count", "须少于该串的 108 颗"),
        (
            [{"count": "100", "species": "glass"}, {"count": "8", "species": "plastic"}],
            {},
            "c1-g2-count",
            "不符的珠子共 108 颗",
        ),
        ([{"count": "60", "species": "glass"}], {"count": "50"}, "c1-g1-count", "50 颗"),
        ([{"count": "3"}], {}, "c1-g1-species", "缺少测量项"),
        ([{"count": "0", "species": "glass"}], {}, "c1-g1-count", "超出范围"),
        ([{"count": "3", "species": "nephrite"}], {}, "c1-g1-species", "与申报相符"),
    ],
)
def test_groups_that_do_not_add_up_are_refused_in_words(
    groups: list[dict[str, Any]], measured: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        string_judged(groups, **measured)
    assert problem in refused.value.fields[field].render("zh")
    assert "组成部分 1" in refused.value.message.render("zh")


def test_only_a_bead_string_records_beads_not_as_declared() -> None:
    _article, declared = pieces.parse_declared(RULES, "ring", "AU750; DIAMOND")
    with pytest.raises(ValidationFailed) as refused:
        pieces.validate_piece(
            RULES,
            declared,
            {
                "mass_g": "3",
                "components": [GOLD18, {**DIA, pieces.GROUPS: [{"count": "1", "species": "cz"}]}],
            },
        )
    assert "珠串" in refused.value.message.render("zh")


def test_the_mixed_string_naming_rule_carries_its_source_and_the_recall_tag() -> None:
    rule = RULES.raw["set_naming"]["mixed_strings"]
    assert rule["confidence"] == "R" and "recalled" in rule["tag"] and rule["source"]
    assert RULES.raw["components"]["bead_groups"]["source"]


BEAD_GROUPS = st.lists(
    st.fixed_dictionaries(
        {
            "count": st.integers(1, 20).map(str),
            "species": st.sampled_from(["glass", "plastic", "quartzite", "serpentine"]),
        },
        optional={"dye": st.booleans(), "coating": st.booleans()},
    ),
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(BEAD_GROUPS)
def test_any_group_of_beads_not_as_declared_fails_the_string(groups: list[dict[str, Any]]) -> None:
    judged = string_judged(groups)
    vocabulary = RULES.vocabulary()
    assert all(g.outcome.name_zh in vocabulary for p in judged.parts for g in p.groups)
    assert judged.verdict == ("fail" if groups else "pass")
    assert (judged.name_zh == "和田玉手串") == (not groups)
    decisive = [r for r in judged.reasons if r.decisive]
    assert len(decisive) == len(groups)
