"""Real-world cases through the material rules engine: measurements in, certificate name out.

Each row is what a QC warehouse sees: the merchant's declaration (code, mass, brand, listing
text), the lab's measurements as the API sends them (strings and booleans), and what a
gemmologist expects: the GB 11887 / GB/T 16552 name, the verdict and the reason codes.
Constants come from /work/shared/domain/domain.md §1, §2, §3.1, §4, §6, §7.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from qc_app.errors import ValidationFailed
from qc_app.rules.engine import Judgement, RuleSet, judge, load_ruleset, validate

VERSION = "2026.11-2"


def rules() -> RuleSet:
    return load_ruleset(VERSION)


@dataclass(frozen=True)
class Case:
    id: str
    code: str  # declared material code
    measurements: dict[str, Any]  # as the API sends them
    name_zh: str  # expected certificate name
    verdict: str
    decisive: frozenset[str]  # exact set of decisive reason codes
    recorded: frozenset[str] | None  # exact set of recorded-only codes, when the case says
    mass: str  # declared mass, g
    brand: str
    text: str  # listing title / description


def case(
    id: str,
    code: str,
    measurements: dict[str, Any],
    name_zh: str,
    verdict: str,
    decisive: tuple[str, ...] = (),
    recorded: tuple[str, ...] | None = None,
    *,
    mass: str = "10.00",
    brand: str = "",
    text: str = "",
) -> Case:
    """A row; the balance reads the declared mass unless the row gives `mass_g`."""
    return Case(
        id,
        code,
        {"mass_g": mass, **measurements},
        name_zh,
        verdict,
        frozenset(decisive),
        None if recorded is None else frozenset(recorded),
        mass,
        brand,
        text,
    )


def au(permille: str, **extra: Any) -> dict[str, Any]:
    return {"metal": "Au", "fineness_permille": permille, **extra}


def pt(permille: str, **extra: Any) -> dict[str, Any]:
    return {"metal": "Pt", "fineness_permille": permille, **extra}


def pd(permille: str, **extra: Any) -> dict[str, Any]:
    return {"metal": "Pd", "fineness_permille": permille, **extra}


def ag(permille: str, **extra: Any) -> dict[str, Any]:
    return {"metal": "Ag", "fineness_permille": permille, **extra}


# Typical readings (domain.md §3.1).
JADEITE = {"species": "jadeite", "ri": "1.66", "sg": "3.33", "optic": "aggregate"}
NEPHRITE = {"species": "nephrite", "ri": "1.61", "sg": "2.95", "optic": "aggregate"}
RUBY = {
    "growth": "natural",
    "species": "ruby",
    "ri": "1.762",
    "ri_high": "1.770",
    "sg": "4.00",
    "optic": "anisotropic",
}
SAPPHIRE = {**RUBY, "species": "sapphire"}
EMERALD = {"growth": "natural", "ri": "1.577", "ri_high": "1.583", "sg": "2.72"}
QUARTZ = {"growth": "natural", "ri": "1.544", "ri_high": "1.553", "sg": "2.66"}
GLASS = {"ri": "1.52", "sg": "2.50", "optic": "isotropic"}
DIAMOND = {"growth": "natural", "sg": "3.52", "optic": "isotropic"}
AMBER = {"species": "amber", "ri": "1.540", "sg": "1.08", "optic": "isotropic"}
PLASTIC = {"ri": "1.50", "sg": "1.18", "optic": "isotropic"}

MISMATCH = ("material_mismatch",)
TREATED = ("treated_not_declared",)
SYNTHETIC = ("synthetic_not_declared",)
FOUND = ("treatment_found",)

METALS = [
    # GB 11887-2012 + Amendment 1, Table 1: the highest grade whose minimum is met.
    case("9k", "AU375", au("376.0"), "9K金", "pass", recorded=()),
    case("14k", "AU585", au("585.0"), "14K金", "pass", recorded=()),
    case("18k_at_minimum", "AU750", au("750.0"), "18K金", "pass", recorded=()),
    case("18k_stamped_18k", "AU750", au("751.3", stamp="18K"), "18K金", "pass", recorded=()),
    case("18k_short_by_tenth", "AU750", au("749.9"), "14K金", "fail", ("fineness_below_declared",)),
    case("22k", "AU916", au("916.3"), "22K金", "pass", recorded=()),
    case("zujin_999_2", "AU990", au("999.2"), "足金", "pass", recorded=()),
    case("zujin_at_990", "AU990", au("990.0"), "足金", "pass", recorded=()),
    # 不得有负公差: 989.9‰ is 22K, not 足金.
    case("zujin_989_9", "AU990", au("989.9"), "22K金", "fail", ("fineness_below_declared",)),
    case("18k_sold_as_zujin", "AU990", au("750.0"), "18K金", "fail", ("fineness_below_declared",)),
    case(
        "zujin_declared_18k",
        "AU750",
        au("999.2"),
        "足金",
        "pass",
        recorded=("fineness_above_declared",),
    ),
    case("zujin_json_number", "AU990", {"metal": "Au", "fineness_permille": 999.2}, "足金", "pass"),
    case(
        "gold_below_every_grade",
        "AU375",
        au("320.0"),
        "金（未达国标纯度）",
        "fail",
        ("fineness_below_declared",),
    ),
    case(
        "stamp_zujin_on_750",
        "AU750",
        au("750.2", stamp="足金"),
        "18K金",
        "fail",
        ("stamp_overstates",),
    ),
    case(
        "zujin_989_9_stamped_zujin",
        "AU990",
        au("989.9", stamp="足金"),
        "22K金",
        "fail",
        ("fineness_below_declared", "stamp_overstates"),
    ),
    case(
        "qianzujin_stamp_noted",
        "AU990",
        au("999.6", stamp="千足金"),
        "足金",
        "pass",
        recorded=("stamp_withdrawn_designation",),
    ),
    case(
        "zujin_au999_stamp", "AU990", au("999.3", stamp="足金Au:999"), "足金", "pass", recorded=()
    ),
    # §8.2: a 999‰ content claim on a 995‰ piece fails the content claim (still 足金).
    case(
        "au999_stamp_on_995",
        "AU990",
        au("995.0", stamp="足金Au999"),
        "足金",
        "fail",
        ("stamp_overstates",),
    ),
    case(
        "qianzujin_stamp_on_995",
        "AU990",
        au("995.0", stamp="千足金"),
        "足金",
        "fail",
        ("stamp_overstates",),
        ("stamp_withdrawn_designation",),
    ),
    # §1.2/§1.3: a piece of two metals carries a mark for each; the Pt mark is not a lie.
    case(
        "two_tone_au750_pt950",
        "AU750",
        au("750.0", stamp="Au750 Pt950"),
        "18K金",
        "pass",
        recorded=(),
    ),
    case("pt850", "PT850", pt("851.0"), "铂850", "pass"),
    case("pt900", "PT900", pt("900.0"), "铂900", "pass"),
    case("pt950_stamped", "PT950", pt("952.0", stamp="Pt950"), "铂950", "pass", recorded=()),
    case("pt950_short", "PT950", pt("949.0"), "铂900", "fail", ("fineness_below_declared",)),
    case("zubo", "PT990", pt("991.0", stamp="足铂"), "足铂", "pass"),
    case("pd500", "PD500", pd("505.0"), "钯500", "pass"),
    case("pd950", "PD950", pd("950.0", stamp="Pd950"), "钯950", "pass"),
    case("zuba", "PD990", pd("990.5"), "足钯", "pass"),
    case("ag800", "AG800", ag("801.0"), "银800", "pass"),
    case("s925", "AG925", ag("925.0", stamp="S925"), "银925", "pass", recorded=()),
    case("s925_short", "AG925", ag("920.0"), "银800", "fail", ("fineness_below_declared",)),
    case("zuyin", "AG990", ag("999.0", stamp="足银"), "足银", "pass", recorded=()),
    # §1.3: Ag is the silver symbol; "Ag999" is a silver mark, not the gold mark G999.
    case("zuyin_ag999_stamp", "AG990", ag("999.0", stamp="Ag999"), "足银", "pass", recorded=()),
    case(
        "plated_brass_as_silver",
        "AG925",
        {"metal": "other", "fineness_permille": "0"},
        "非贵金属",
        "fail",
        ("metal_mismatch",),
    ),
    case(
        "plated_brass_stamped_zujin",
        "AU990",
        {"metal": "other", "fineness_permille": "0", "stamp": "足金"},
        "非贵金属",
        "fail",
        ("metal_mismatch", "stamp_overstates"),
    ),
    case("silver_sold_as_pt", "PT950", ag("925.0"), "银925", "fail", ("metal_mismatch",)),
    case(
        "pt_stamp_on_white_gold",
        "AU750",
        au("750.0", stamp="Pt950"),
        "18K金",
        "fail",
        ("stamp_overstates",),
    ),
]

MASS = [
    # §7: gold no shortfall (Douyin); Pt/Pd −0.01 g (QB/T 1690); silver −0.1 g (2004 rules).
    case("gold_0_01_short", "AU990", au("999.0", mass_g="9.99"), "足金", "fail", ("mass_short",)),
    case("gold_exact", "AU990", au("999.0", mass_g="10.00"), "足金", "pass", recorded=()),
    case(
        "gold_heavier",
        "AU990",
        au("999.0", mass_g="10.05"),
        "足金",
        "pass",
        recorded=("mass_over",),
    ),
    case("pt_0_01_short", "PT950", pt("950.0", mass_g="4.99"), "铂950", "pass", mass="5.00"),
    case(
        "pt_0_02_short",
        "PT950",
        pt("950.0", mass_g="4.98"),
        "铂950",
        "fail",
        ("mass_short",),
        mass="5.00",
    ),
    case("pd_0_01_short", "PD950", pd("951.0", mass_g="2.99"), "钯950", "pass", mass="3.00"),
    case(
        "pd_0_02_short",
        "PD950",
        pd("951.0", mass_g="2.98"),
        "钯950",
        "fail",
        ("mass_short",),
        mass="3.00",
    ),
    case("silver_0_10_short", "AG925", ag("925.0", mass_g="19.90"), "银925", "pass", mass="20.00"),
    case(
        "silver_0_11_short",
        "AG925",
        ag("925.0", mass_g="19.89"),
        "银925",
        "fail",
        ("mass_short",),
        mass="20.00",
    ),
    case(
        "jade_0_01_short",
        "NEPHRITE",
        {**NEPHRITE, "mass_g": "49.99"},
        "和田玉",
        "pass",
        mass="50.00",
    ),
    case(
        "jade_0_02_short",
        "NEPHRITE",
        {**NEPHRITE, "mass_g": "49.98"},
        "和田玉",
        "fail",
        ("mass_short",),
        mass="50.00",
    ),
    case(
        "jadeite_heavier",
        "JADEITE",
        {**JADEITE, "mass_g": "51.20"},
        "翡翠",
        "pass",
        recorded=("mass_over",),
        mass="50.00",
    ),
]

BRANDS = [
    case(
        "brand_differs",
        "AU990",
        au("999.0", brand_mark="differs"),
        "足金",
        "fail",
        ("brand_mismatch",),
        brand="周大福",
    ),
    case(
        "brand_absent",
        "AU990",
        au("999.0", brand_mark="absent"),
        "足金",
        "fail",
        ("brand_mark_missing",),
        brand="老凤祥",
    ),
    case(
        "brand_not_checked",
        "AU990",
        au("999.0"),
        "足金",
        "pass",
        recorded=("brand_not_checked",),
        brand="周生生",
    ),
    case(
        "brand_matches",
        "AU990",
        au("999.0", brand_mark="matches"),
        "足金",
        "pass",
        recorded=(),
        brand="周生生",
    ),
    case(
        "no_listing_brand", "AU990", au("999.0", brand_mark="absent"), "足金", "pass", recorded=()
    ),
    case(
        "diamond_brand_differs",
        "DIAMOND",
        {**DIAMOND, "brand_mark": "differs"},
        "钻石",
        "fail",
        ("brand_mismatch",),
        brand="DR",
        mass="0.20",
    ),
]

JADE = [
    case(
        "jadeite_a_by_readings", "JADEITE", {**JADEITE, "species": ""}, "翡翠", "pass", recorded=()
    ),
    case(
        "jadeite_a_claims",
        "JADEITE",
        JADEITE,
        "翡翠",
        "pass",
        recorded=("origin_recorded", "variety_recorded"),
        text="缅甸老坑玻璃种翡翠手镯",
    ),
    case(
        "omphacite_mocui",
        "JADEITE",
        {"species": "jadeite", "ri": "1.67", "sg": "3.40", "optic": "aggregate"},
        "翡翠",
        "pass",
    ),
    case(
        "jadeite_b_resin",
        "JADEITE",
        {**JADEITE, "ri": "1.65", "sg": "3.10", "ir_polymer": True, "uv_fluorescence": "strong"},
        "翡翠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "jadeite_c_dye", "JADEITE", {**JADEITE, "dye": True}, "翡翠（处理）", "fail", TREATED, FOUND
    ),
    case(
        "jadeite_b_plus_c",
        "JADEITE",
        {**JADEITE, "sg": "3.20", "ir_polymer": True, "dye": True},
        "翡翠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "jadeite_coated",
        "JADEITE",
        {"species": "jadeite", "sg": "3.33", "coating": True},
        "翡翠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    # §3.1: the film of coated jadeite reads a spot RI ≈1.53; the lab still names 翡翠（处理）.
    case(
        "jadeite_coated_film_ri",
        "JADEITE",
        {"species": "jadeite", "ri": "1.53", "sg": "3.33", "coating": True},
        "翡翠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "jadeite_treated_declared",
        "JADEITE_TREATED",
        {**JADEITE, "ri": "1.65", "sg": "3.10", "ir_polymer": True},
        "翡翠（处理）",
        "pass",
        recorded=FOUND,
    ),
    case("a_huo_declared_treated", "JADEITE_TREATED", JADEITE, "翡翠", "fail", MISMATCH),
    case("d_huo_glass", "JADEITE", GLASS, "玻璃", "fail", MISMATCH, recorded=()),
    case(
        "d_huo_dyed_glass",
        "JADEITE",
        {**GLASS, "species": "glass", "dye": True},
        "玻璃",
        "fail",
        MISMATCH,
        ("treatment_of_imitation",),
    ),
    case(
        "d_huo_malay_jade",
        "JADEITE",
        {"species": "quartzite", "ri": "1.54", "sg": "2.65", "optic": "aggregate", "dye": True},
        "石英岩玉（处理）",
        "fail",
        MISMATCH,
        FOUND,
    ),
    case(
        "d_huo_albite_shuimozi",
        "JADEITE",
        {"species": "albite_jade", "ri": "1.53", "sg": "2.62", "optic": "aggregate"},
        "钠长石玉",
        "fail",
        MISMATCH,
    ),
    case("d_huo_nephrite", "JADEITE", NEPHRITE, "和田玉", "fail", MISMATCH),
    case(
        "qinghai_cui_hydrogrossular",
        "JADEITE",
        {"ri": "1.72", "sg": "3.47", "optic": "aggregate"},
        "水钙铝榴石",
        "fail",
        MISMATCH,
    ),
    case(
        "hetian_xinjiang_seed_mutton_fat",
        "NEPHRITE",
        NEPHRITE,
        "和田玉",
        "pass",
        recorded=("origin_recorded", "variety_recorded", "skin_colour_recorded"),
        text="新疆籽料羊脂白玉洒金皮手把件",
    ),
    case(
        "hetian_russian",
        "NEPHRITE",
        NEPHRITE,
        "和田玉",
        "pass",
        recorded=("origin_recorded",),
        text="俄料白玉平安扣",
    ),
    case(
        "hetian_qinghai",
        "NEPHRITE",
        NEPHRITE,
        "和田玉",
        "pass",
        recorded=("origin_recorded",),
        text="青海料青白玉手镯",
    ),
    case(
        "hetian_variety_and_skin_measured",
        "NEPHRITE",
        {**NEPHRITE, "variety": "籽料", "skin_colour": "枣红皮"},
        "和田玉",
        "pass",
        recorded=("variety_recorded", "skin_colour_recorded"),
    ),
    # §2.5: 和田玉 is a mineralogical name, not a place: the bare name is no origin claim.
    case(
        "hetian_name_is_no_origin",
        "NEPHRITE",
        NEPHRITE,
        "和田玉",
        "pass",
        recorded=(),
        text="和田玉手镯",
    ),
    case(
        "xiuyu_as_hetian",
        "NEPHRITE",
        {"ri": "1.56", "sg": "2.57", "optic": "aggregate"},
        "蛇纹石玉",
        "fail",
        MISMATCH,
    ),
    case(
        "afghan_jade_as_hetian",
        "NEPHRITE",
        {"species": "marble", "ri": "1.60", "sg": "2.70", "optic": "aggregate"},
        "大理岩",
        "fail",
        MISMATCH,
    ),
    case("glass_as_hetian", "NEPHRITE", GLASS, "玻璃", "fail", MISMATCH),
    case(
        "serpentine",
        "SERPENTINE",
        {"ri": "1.56", "sg": "2.57", "optic": "aggregate"},
        "蛇纹石玉",
        "pass",
        recorded=(),
    ),
    case(
        "quartzite_dongling",
        "QUARTZITE",
        {"species": "quartzite", "ri": "1.54", "sg": "2.65", "optic": "aggregate"},
        "石英岩玉",
        "pass",
    ),
    case(
        "chalcedony_agate",
        "CHALCEDONY",
        {"species": "chalcedony", "ri": "1.535", "sg": "2.60", "optic": "aggregate"},
        "玉髓",
        "pass",
    ),
    case(
        "glass_as_chalcedony",
        "CHALCEDONY",
        {**GLASS, "species": "glass"},
        "玻璃",
        "fail",
        MISMATCH,
    ),
    case(
        "turquoise_natural",
        "TURQUOISE",
        {"ri": "1.61", "sg": "2.76", "optic": "aggregate"},
        "绿松石",
        "pass",
        recorded=(),
    ),
    case(
        "turquoise_filled",
        "TURQUOISE",
        {"species": "turquoise", "ri": "1.61", "sg": "2.30", "ir_polymer": True},
        "绿松石（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "turquoise_reconstructed",
        "TURQUOISE",
        {"species": "turquoise", "ri": "1.61", "sg": "2.60", "reconstructed": True},
        "再造绿松石",
        "fail",
        ("reconstructed_not_declared",),
    ),
    case(
        "dyed_howlite_as_turquoise",
        "TURQUOISE",
        {"ri": "1.59", "sg": "2.55", "optic": "aggregate", "dye": True},
        "羟硅硼钙石（处理）",
        "fail",
        MISMATCH,
        FOUND,
    ),
    case(
        "dyed_magnesite_as_turquoise",
        "TURQUOISE",
        {"species": "magnesite", "ri": "1.51", "sg": "3.00", "dye": True},
        "菱镁矿（处理）",
        "fail",
        MISMATCH,
        FOUND,
    ),
    case("plastic_as_turquoise", "TURQUOISE", PLASTIC, "塑料", "fail", MISMATCH),
]

GEMS = [
    case("ruby", "RUBY", RUBY, "红宝石", "pass", recorded=()),
    # Heat treatment is 优化: the name stays 红宝石. Origin and variety are recorded only.
    case(
        "ruby_heated_pigeon_blood",
        "RUBY",
        RUBY,
        "红宝石",
        "pass",
        recorded=("origin_recorded", "variety_recorded"),
        text="缅甸鸽血红红宝石戒指（加热）",
    ),
    case(
        "synthetic_ruby",
        "RUBY",
        {**RUBY, "growth": "synthetic"},
        "合成红宝石",
        "fail",
        SYNTHETIC,
    ),
    case(
        "glass_filled_ruby",
        "RUBY",
        {**RUBY, "sg": "3.98", "inorganic_filling": True},
        "红宝石（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "glass_filled_ruby_declared",
        "RUBY_TREATED",
        {**RUBY, "sg": "3.98", "inorganic_filling": True},
        "红宝石（处理）",
        "pass",
        recorded=FOUND,
    ),
    case(
        "synthetic_ruby_as_treated",
        "RUBY_TREATED",
        {**RUBY, "growth": "synthetic"},
        "合成红宝石",
        "fail",
        SYNTHETIC,
    ),
    case("pink_sapphire_as_ruby", "RUBY", SAPPHIRE, "蓝宝石", "fail", MISMATCH),
    case(
        "garnet_as_ruby",
        "RUBY",
        {"growth": "natural", "ri": "1.76", "sg": "3.84", "optic": "isotropic"},
        "石榴石",
        "fail",
        MISMATCH,
    ),
    case(
        "red_glass_as_ruby",
        "RUBY",
        {**GLASS, "growth": "natural", "species": "glass"},
        "玻璃",
        "fail",
        MISMATCH,
    ),
    case("sapphire", "SAPPHIRE", SAPPHIRE, "蓝宝石", "pass", recorded=()),
    case(
        "diffused_sapphire",
        "SAPPHIRE",
        {**SAPPHIRE, "diffusion": True},
        "蓝宝石（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "diffused_sapphire_declared",
        "SAPPHIRE_TREATED",
        {**SAPPHIRE, "diffusion": True},
        "蓝宝石（处理）",
        "pass",
    ),
    case("corundum_sapphire", "CORUNDUM", SAPPHIRE, "蓝宝石", "pass"),
    case(
        "corundum_synthetic",
        "CORUNDUM",
        {**SAPPHIRE, "growth": "synthetic"},
        "合成蓝宝石",
        "fail",
        SYNTHETIC,
    ),
    case("emerald", "EMERALD", {**EMERALD, "optic": "anisotropic"}, "祖母绿", "pass", recorded=()),
    case(
        "emerald_resin",
        "EMERALD",
        {**EMERALD, "species": "emerald", "ir_polymer": True},
        "祖母绿（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "synthetic_emerald",
        "EMERALD",
        {**EMERALD, "species": "emerald", "growth": "synthetic"},
        "合成祖母绿",
        "fail",
        SYNTHETIC,
    ),
    case(
        "green_glass_as_emerald",
        "EMERALD",
        {**GLASS, "growth": "natural"},
        "玻璃",
        "fail",
        MISMATCH,
    ),
    case("rock_crystal", "QUARTZ", {**QUARTZ, "optic": "anisotropic"}, "水晶", "pass", recorded=()),
    case(
        "glass_as_crystal",
        "QUARTZ",
        {"growth": "natural", "ri": "1.52", "sg": "2.48", "optic": "isotropic"},
        "玻璃",
        "fail",
        MISMATCH,
    ),
    case(
        "synthetic_quartz",
        "QUARTZ",
        {**QUARTZ, "species": "quartz", "growth": "synthetic"},
        "合成水晶",
        "fail",
        SYNTHETIC,
    ),
]

DIAMONDS = [
    case("natural_diamond", "DIAMOND", DIAMOND, "钻石", "pass", recorded=(), mass="0.20"),
    case(
        "south_african_diamond",
        "DIAMOND",
        DIAMOND,
        "钻石",
        "pass",
        recorded=("origin_recorded",),
        mass="0.20",
        text="南非钻石戒指",
    ),
    case("cvd_as_diamond", "DIAMOND", {**DIAMOND, "growth": "cvd"}, "合成钻石", "fail", SYNTHETIC),
    case(
        "hpht_as_diamond", "DIAMOND", {**DIAMOND, "growth": "hpht"}, "合成钻石", "fail", SYNTHETIC
    ),
    case(
        "cvd_declared_lab_grown", "SYN_DIAMOND", {"growth": "cvd"}, "合成钻石", "pass", recorded=()
    ),
    case(
        "hpht_declared_lab_grown", "SYN_DIAMOND", {**DIAMOND, "growth": "hpht"}, "合成钻石", "pass"
    ),
    # §2.2 / §4: treated artificial gems need not show the treatment; CVD is often annealed.
    case(
        "cvd_annealed_declared_lab_grown",
        "SYN_DIAMOND",
        {"growth": "cvd", "hpht_treated": True},
        "合成钻石",
        "pass",
    ),
    case("natural_as_lab_grown", "SYN_DIAMOND", DIAMOND, "钻石", "fail", MISMATCH),
    case(
        "hpht_treated_natural",
        "DIAMOND",
        {**DIAMOND, "hpht_treated": True},
        "钻石（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "laser_drilled",
        "DIAMOND",
        {**DIAMOND, "laser_drilled": True},
        "钻石（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "moissanite",
        "DIAMOND",
        {"growth": "simulant", "sg": "3.22", "optic": "anisotropic"},
        "合成碳化硅",
        "fail",
        MISMATCH,
    ),
    case(
        "moissanite_as_lab_grown",
        "SYN_DIAMOND",
        {"growth": "simulant", "species": "moissanite"},
        "合成碳化硅",
        "fail",
        MISMATCH,
    ),
    case("cz", "DIAMOND", {"growth": "simulant", "sg": "5.80"}, "合成立方氧化锆", "fail", MISMATCH),
    case("yag", "DIAMOND", {"growth": "simulant", "sg": "4.55"}, "人造钇铝榴石", "fail", MISMATCH),
    case(
        "strontium_titanate",
        "DIAMOND",
        {"growth": "simulant", "sg": "5.13"},
        "人造钛酸锶",
        "fail",
        MISMATCH,
    ),
    case(
        "glass_simulant",
        "DIAMOND",
        {"growth": "simulant", "species": "glass", "sg": "3.60"},
        "玻璃",
        "fail",
        MISMATCH,
    ),
]

ORGANIC = [
    case(
        "freshwater_pearl",
        "PEARL",
        {"species": "pearl_freshwater", "sg": "2.70"},
        "淡水养殖珍珠",
        "pass",
        recorded=(),
    ),
    case(
        "akoya_pearl", "PEARL", {"species": "pearl_seawater", "sg": "2.75"}, "海水养殖珍珠", "pass"
    ),
    case("natural_pearl", "PEARL", {"species": "pearl_natural", "sg": "2.72"}, "天然珍珠", "pass"),
    case(
        "dyed_pearl",
        "PEARL",
        {"species": "pearl_freshwater", "dye": True},
        "淡水养殖珍珠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "irradiated_akoya",
        "PEARL",
        {"species": "pearl_seawater", "irradiation": True},
        "海水养殖珍珠（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case(
        "imitation_pearl",
        "PEARL",
        {"species": "imitation_pearl", "coating": True},
        "仿珍珠",
        "fail",
        MISMATCH,
        ("treatment_of_imitation",),
    ),
    case("amber", "AMBER", AMBER, "琥珀", "pass", recorded=()),
    case(
        "baltic_beeswax_amber",
        "AMBER",
        AMBER,
        "琥珀",
        "pass",
        recorded=("origin_recorded", "variety_recorded"),
        text="波罗的海蜜蜡手串",
    ),
    case("copal", "AMBER", {**AMBER, "species": "copal"}, "柯巴树脂", "fail", MISMATCH),
    case("plastic_amber", "AMBER", PLASTIC, "塑料", "fail", MISMATCH),
    case(
        "pressed_amber",
        "AMBER",
        {**AMBER, "sg": "1.05", "reconstructed": True},
        "再造琥珀",
        "fail",
        ("reconstructed_not_declared",),
    ),
    case(
        "coral",
        "CORAL",
        {"ri": "1.486", "sg": "2.65", "optic": "aggregate"},
        "珊瑚",
        "pass",
        recorded=("variety_recorded", "origin_recorded"),
        text="台湾阿卡红珊瑚",
    ),
    case(
        "dyed_coral",
        "CORAL",
        {"species": "coral", "sg": "2.65", "dye": True},
        "珊瑚（处理）",
        "fail",
        TREATED,
        FOUND,
    ),
    case("plastic_coral", "CORAL", {**PLASTIC, "species": "plastic"}, "塑料", "fail", MISMATCH),
]

IMITATIONS = [
    case("glass", "GLASS", {**GLASS, "species": "glass"}, "玻璃", "pass", recorded=()),
    case(
        "dyed_glass",
        "GLASS",
        {**GLASS, "dye": True},
        "玻璃",
        "pass",
        recorded=("treatment_of_imitation",),
    ),
    case("plastic_as_glass", "GLASS", PLASTIC, "塑料", "fail", MISMATCH),
]

CASES = METALS + MASS + BRANDS + JADE + GEMS + DIAMONDS + ORGANIC + IMITATIONS


def run(c: Case) -> Judgement:
    r = rules()
    measurements = validate(r, r.family_of(c.code), c.measurements)
    return judge(
        r,
        declared_code=c.code,
        declared_mass_g=Decimal(c.mass),
        measurements=measurements,
        declared_brand=c.brand,
        declared_text=c.text,
    )


def decisive_codes(j: Judgement) -> frozenset[str]:
    return frozenset(r.code for r in j.reasons if r.decisive)


def recorded_codes(j: Judgement) -> frozenset[str]:
    return frozenset(r.code for r in j.reasons if not r.decisive)


# -- the table itself ---------------------------------------------------------------------------


def test_the_table_has_enough_cases_with_unique_ids() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 70
    assert len(set(ids)) == len(ids)


def test_the_table_covers_every_declaration() -> None:
    assert {c.code for c in CASES} == set(rules().declarations)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_the_row_is_coherent(c: Case) -> None:
    assert c.verdict == ("fail" if c.decisive else "pass")
    assert c.name_zh in rules().vocabulary()


# -- the engine against the table ---------------------------------------------------------------


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_certificate_name(c: Case) -> None:
    assert run(c).name_zh == c.name_zh


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_verdict_and_decisive_reasons(c: Case) -> None:
    j = run(c)
    assert (j.verdict, decisive_codes(j)) == (c.verdict, c.decisive)


@pytest.mark.parametrize("c", [c for c in CASES if c.recorded is not None], ids=lambda c: c.id)
def test_recorded_reasons(c: Case) -> None:
    assert recorded_codes(run(c)) == c.recorded


def test_judgement_carries_the_rule_version() -> None:
    assert run(CASES[0]).rule_version == VERSION


def test_recorded_claims_name_the_terms_and_the_guarantee() -> None:
    c = next(c for c in CASES if c.id == "hetian_xinjiang_seed_mutton_fat")
    reasons = {r.code: r for r in run(c).reasons}
    assert "新疆" in reasons["origin_recorded"].zh
    assert "籽料" in reasons["variety_recorded"].zh
    assert "洒金皮" in reasons["skin_colour_recorded"].zh
    assert all("假一赔十" in reasons[k].zh for k in reasons)


def test_withdrawn_qianzu_note_names_the_date() -> None:
    c = next(c for c in CASES if c.id == "qianzujin_stamp_noted")
    (note,) = [r for r in run(c).reasons if r.code == "stamp_withdrawn_designation"]
    assert "2016-05-04" in note.zh and "2016-05-04" in note.en


def test_fineness_shortfall_names_the_correct_grade() -> None:
    c = next(c for c in CASES if c.id == "zujin_989_9")
    (reason,) = [r for r in run(c).reasons if r.code == "fineness_below_declared"]
    assert "989.9" in reason.zh and "22K金" in reason.zh and "负公差" in reason.zh


def test_species_is_reported_for_gems_and_not_for_metals() -> None:
    by_id = {c.id: c for c in CASES}
    assert run(by_id["jadeite_b_resin"]).species == "jadeite"
    assert run(by_id["cvd_declared_lab_grown"]).species == "diamond"
    assert run(by_id["zujin_999_2"]).species is None


# -- refusals: the lab must resolve what the readings cannot --------------------------------------


@dataclass(frozen=True)
class Refusal:
    id: str
    code: str
    measurements: dict[str, Any]
    mentions: tuple[str, ...]  # what the Chinese message must name


REFUSALS = [
    # RI/SG overlap: glass covers most materials unless the polariscope is given.
    Refusal("jadeite_or_glass", "JADEITE", {"ri": "1.66", "sg": "3.33"}, ("翡翠", "玻璃")),
    Refusal(
        "nephrite_or_magnesite",
        "NEPHRITE",
        {"ri": "1.61", "sg": "2.95", "optic": "aggregate"},
        ("和田玉", "菱镁矿"),
    ),
    Refusal(
        "ruby_or_sapphire",
        "RUBY",
        {**RUBY, "species": ""},
        ("红宝石", "蓝宝石", "species"),
    ),
    Refusal("crystal_or_glass", "QUARTZ", QUARTZ, ("水晶", "玻璃")),
    Refusal(
        "amber_copal_or_plastic",
        "AMBER",
        {**AMBER, "species": ""},
        ("琥珀", "柯巴树脂", "塑料"),
    ),
    Refusal(
        "moissanite_or_glass",
        "DIAMOND",
        {"growth": "simulant", "sg": "3.22"},
        ("合成碳化硅", "玻璃"),
    ),
    # A species the readings contradict.
    Refusal(
        "jadeite_at_ri_1_54", "JADEITE", {"species": "jadeite", "ri": "1.54"}, ("翡翠", "折射率")
    ),
    Refusal(
        "untreated_jadeite_at_sg_3_10",
        "JADEITE",
        {"species": "jadeite", "sg": "3.10"},
        ("翡翠", "相对密度"),
    ),
    Refusal(
        "isotropic_nephrite",
        "NEPHRITE",
        {"species": "nephrite", "optic": "isotropic"},
        ("和田玉", "偏光镜"),
    ),
    Refusal(
        "floating_glass_amber", "AMBER", {"species": "amber", "sg": "2.50"}, ("琥珀", "相对密度")
    ),
    Refusal("ruby_at_ri_1_54", "RUBY", {**RUBY, "ri": "1.544", "ri_high": "1.553"}, ("红宝石",)),
    # ri_high is a refractive index reading like ri: it must fit the species too.
    Refusal("ruby_ri_high_1_90", "RUBY", {**RUBY, "ri_high": "1.900"}, ("红宝石", "1.9")),
    # Diamond screening and species must agree.
    Refusal("cvd_moissanite", "DIAMOND", {"growth": "cvd", "species": "moissanite"}, ("cvd",)),
    Refusal("simulant_diamond", "DIAMOND", {"growth": "simulant", "species": "diamond"}, ("钻石",)),
    Refusal(
        "natural_cz", "DIAMOND", {"growth": "natural", "species": "cubic_zirconia"}, ("natural",)
    ),
    Refusal("natural_at_sg_5_80", "DIAMOND", {"growth": "natural", "sg": "5.80"}, ("钻石", "5.80")),
    # Names the rules do not have.
    Refusal(
        "synthetic_garnet",
        "RUBY",
        {"growth": "synthetic", "species": "garnet"},
        ("石榴石", "growth"),
    ),
    Refusal(
        "reconstructed_jadeite", "JADEITE", {**JADEITE, "reconstructed": True}, ("再造", "翡翠")
    ),
    Refusal("nothing_to_go_on", "JADEITE", {"optic": "aggregate"}, ("鉴定品种",)),
    Refusal(
        "fits_nothing", "JADEITE", {"ri": "1.80", "sg": "4.00", "optic": "aggregate"}, ("没有",)
    ),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: r.id)
def test_refused(refusal: Refusal) -> None:
    c = case(refusal.id, refusal.code, refusal.measurements, "", "pass")
    with pytest.raises(ValidationFailed) as refused:
        run(c)
    for mention in refusal.mentions:
        assert mention in refused.value.message.render("zh") + refused.value.message.render("en")
    assert refused.value.message.render("zh") and refused.value.message.render("en")


def test_the_same_readings_with_the_polariscope_are_named() -> None:
    c = case(
        "jadeite_with_optic",
        "JADEITE",
        {"ri": "1.66", "sg": "3.33", "optic": "aggregate"},
        "翡翠",
        "pass",
    )
    assert run(c).name_zh == "翡翠"


# -- the constants against their cited sources ---------------------------------------------------

# (species, key, low, high): the range GB/T 16553 (as quoted in domain.md §3.1) gives; the
# rules may be wider but must accept every value inside it.
CITED = [
    ("jadeite", "ri", "1.656", "1.710"),  # 1.666–1.690 (+0.020/−0.010), 2017 text
    ("jadeite", "sg", "3.25", "3.45"),  # 3.34 (+0.11/−0.09)
    ("nephrite", "ri", "1.600", "1.641"),  # 1.606–1.632 (+0.009/−0.006)
    ("nephrite", "sg", "2.90", "3.10"),  # 2.95 (+0.15/−0.05)
    ("serpentine", "ri", "1.560", "1.570"),
    ("serpentine", "sg", "2.44", "2.80"),  # 2.57 (+0.23/−0.13)
    ("quartzite", "ri", "1.544", "1.553"),
    ("quartzite", "sg", "2.64", "2.71"),
    ("chalcedony", "ri", "1.535", "1.539"),
    ("chalcedony", "sg", "2.55", "2.70"),  # 2.60 (+0.10/−0.05)
    ("turquoise", "ri", "1.610", "1.650"),
    ("turquoise", "sg", "2.40", "2.90"),  # 2.76 (+0.14/−0.36)
    ("ruby", "ri", "1.757", "1.779"),  # 1.762–1.770 (+0.009/−0.005)
    ("sapphire", "sg", "3.95", "4.10"),  # 4.00 (+0.10/−0.05)
    ("emerald", "ri", "1.560", "1.600"),  # 1.577–1.583 (±0.017)
    ("emerald", "sg", "2.67", "2.90"),  # 2.72 (+0.18/−0.05)
    ("quartz", "ri", "1.544", "1.553"),
    ("diamond", "sg", "3.51", "3.53"),  # 3.52 (±0.01)
    ("moissanite", "ri", "2.648", "2.691"),
    ("cubic_zirconia", "sg", "5.60", "6.00"),  # 5.80 (±0.20)
    ("yag", "sg", "4.50", "4.60"),
    ("amber", "ri", "1.539", "1.545"),  # 1.540 (+0.005/−0.001)
    ("amber", "sg", "1.00", "1.10"),  # 1.08 (+0.02/−0.08)
    ("coral", "ri", "1.486", "1.658"),
    ("glass", "ri", "1.470", "1.700"),
    ("plastic", "sg", "1.05", "1.55"),
]


@pytest.mark.parametrize(("species", "key", "low", "high"), CITED)
def test_constants_accept_the_cited_range(species: str, key: str, low: str, high: str) -> None:
    have_low, have_high = (Decimal(v) for v in rules().species[species][key])
    assert have_low <= Decimal(low) and Decimal(high) <= have_high
