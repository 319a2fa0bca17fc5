"""validate(): every family's measurement form, parsed exactly or refused in both languages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from qc_app.errors import ValidationFailed
from qc_app.rules.engine import RuleSet, load_ruleset, validate

FAMILIES = ["precious_metal", "jade", "gemstone", "diamond", "organic", "imitation"]

# The smallest valid form of each family (the required keys only).
BASE: dict[str, dict[str, Any]] = {
    "precious_metal": {"mass_g": "10.00", "metal": "Au", "fineness_permille": "999.2"},
    "jade": {"mass_g": "10.00"},
    "gemstone": {"mass_g": "1.00", "growth": "natural"},
    "diamond": {"mass_g": "0.20", "growth": "natural"},
    "organic": {"mass_g": "5.00"},
    "imitation": {"mass_g": "5.00"},
}


def rules() -> RuleSet:
    return load_ruleset("2026.11-2")


def refusal(family: str, **changes: Any) -> ValidationFailed:
    raw = {**BASE[family], **changes}
    with pytest.raises(ValidationFailed) as refused:
        validate(rules(), family, raw)
    return refused.value


def names(error: ValidationFailed, key: str) -> bool:
    """The refusal names the field as the lab form does (含量（XRF） / Fineness (XRF)), in
    each language, and never by its key (issue 18: no raw key reaches a page)."""
    spec = rules().raw["fields"][key]
    zh, en = error.message.render("zh"), error.message.render("en")
    words = zh + en.replace(spec["label_en"], "")  # "Identified species" is not the key
    return spec["label_zh"] in zh and spec["label_en"] in en and key not in words


def parsed(family: str, **changes: Any) -> dict[str, Any]:
    return dict(validate(rules(), family, {**BASE[family], **changes}))


def test_every_family_has_a_base_form() -> None:
    assert set(BASE) == set(rules().families) == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_base_form_is_accepted(family: str) -> None:
    result = parsed(family)
    assert result["mass_g"] == Decimal(BASE[family]["mass_g"])
    assert set(result) == set(BASE[family])


# -- ranges --------------------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("jade", "ri", "7.2", "1.300–2.800"),
    ("gemstone", "ri", "1.299", "1.300–2.800"),
    ("gemstone", "ri_high", "2.801", "1.300–2.800"),
    ("organic", "sg", "0.79", "0.80–8.00"),
    ("diamond", "sg", "8.01", "0.80–8.00"),
    ("imitation", "sg", "12", "0.80–8.00"),
    ("precious_metal", "fineness_permille", "1200", "0–1000"),
    ("precious_metal", "fineness_permille", "1000.1", "0–1000"),
    ("precious_metal", "fineness_permille", "-0.1", "0–1000"),
    ("precious_metal", "mass_g", "0", "0.01–100000"),
    ("jade", "mass_g", "0.00", "0.01–100000"),
    ("gemstone", "mass_g", "-1.00", "0.01–100000"),
    ("organic", "mass_g", "-0.01", "0.01–100000"),
    ("diamond", "mass_g", "100000.01", "0.01–100000"),
]


@pytest.mark.parametrize(("family", "key", "value", "bounds"), OUT_OF_RANGE)
def test_out_of_range_is_refused_naming_field_and_range(
    family: str, key: str, value: str, bounds: str
) -> None:
    error = refusal(family, **{key: value})
    assert names(error, key)
    for message in (error.message.render("zh"), error.message.render("en")):
        assert bounds in message


BOUNDARIES = [
    ("jade", "ri", "1.300"),
    ("jade", "ri", "2.800"),
    ("organic", "sg", "0.80"),
    ("organic", "sg", "8.00"),
    ("precious_metal", "fineness_permille", "0"),
    ("precious_metal", "fineness_permille", "1000"),
    ("imitation", "mass_g", "0.01"),
    ("imitation", "mass_g", "100000"),
]


@pytest.mark.parametrize(("family", "key", "value"), BOUNDARIES)
def test_range_bounds_are_inclusive(family: str, key: str, value: str) -> None:
    assert parsed(family, **{key: value})[key] == Decimal(value)


# -- decimals: exact, never floats ----------------------------------------------------------------

TOO_PRECISE = [
    ("jade", "mass_g", "1.234", "2"),
    ("precious_metal", "fineness_permille", "999.25", "1"),
    ("gemstone", "ri", "1.7621", "3"),
    ("organic", "sg", "2.705", "2"),
    ("jade", "mass_g", 0.1 + 0.2, "2"),  # a float that is not what anyone typed
]


@pytest.mark.parametrize(("family", "key", "value", "places"), TOO_PRECISE)
def test_too_many_decimals_are_refused(family: str, key: str, value: Any, places: str) -> None:
    error = refusal(family, **{key: value})
    assert names(error, key)
    assert f"{places} 位小数" in error.message.render("zh")
    assert f"{places} decimals" in error.message.render("en")


EXACT = [
    ("jade", "mass_g", 10.02, "10.02"),  # JSON number
    ("jade", "mass_g", 10, "10.00"),  # JSON integer
    ("jade", "mass_g", "10.02", "10.02"),
    ("jade", "mass_g", " 10.02 ", "10.02"),  # a form field with spaces
    ("jade", "mass_g", "10.020", "10.02"),  # a trailing zero is still exact
    ("jade", "mass_g", Decimal("10.02"), "10.02"),
    ("precious_metal", "fineness_permille", 999.2, "999.2"),
    ("precious_metal", "fineness_permille", 750, "750.0"),
    ("gemstone", "ri", 1.762, "1.762"),
    ("gemstone", "ri", "1.66", "1.660"),
    ("organic", "sg", 2.7, "2.70"),
]


@pytest.mark.parametrize(("family", "key", "value", "expected"), EXACT)
def test_numbers_and_strings_parse_exactly(
    family: str, key: str, value: Any, expected: str
) -> None:
    result = parsed(family, **{key: value})[key]
    assert isinstance(result, Decimal)
    assert str(result) == expected


NOT_NUMBERS = [
    "abc",
    "1,5",
    "NaN",
    "Infinity",
    "-inf",
    "10 g",
    "一点五",
    True,
    False,
    [10],
    {"g": 1},
]


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_non_numbers_are_refused(value: Any) -> None:
    error = refusal("organic", sg=value)
    assert names(error, "sg")


# Numbers with more digits than Decimal's context are a bad request, not a crash.
HUGE = ["1e30", 1e30, "123456789012345678901234567890", "9" * 40]


@pytest.mark.parametrize("value", HUGE, ids=repr)
def test_huge_numbers_are_refused(value: Any) -> None:
    error = refusal("jade", mass_g=value)
    assert names(error, "mass_g")


# -- booleans, choices, text ----------------------------------------------------------------------

NOT_BOOLS = ["true", "false", "yes", 1, 0, "1", [True]]


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
@pytest.mark.parametrize(("family", "key"), [("jade", "ir_polymer"), ("diamond", "hpht_treated")])
def test_booleans_must_be_real_booleans(family: str, key: str, value: Any) -> None:
    error = refusal(family, **{key: value})
    assert names(error, key)
    assert "true" in error.message.render("en")


@pytest.mark.parametrize("value", [True, False])
def test_real_booleans_are_kept(value: bool) -> None:
    assert parsed("jade", dye=value)["dye"] is value


BAD_CHOICES = [
    ("precious_metal", "metal", "gold"),
    ("precious_metal", "metal", "au"),
    ("gemstone", "growth", "lab"),
    ("diamond", "growth", "synthetic"),  # diamonds say hpht or cvd
    ("gemstone", "growth", "cvd"),  # a coloured stone is natural or synthetic
    ("organic", "uv_fluorescence", "Strong"),
    ("jade", "optic", "uniaxial"),
    ("jade", "brand_mark", "yes"),
    ("jade", "optic", 1),
]


@pytest.mark.parametrize(("family", "key", "value"), BAD_CHOICES)
def test_unknown_choices_are_refused_listing_the_choices(family: str, key: str, value: Any) -> None:
    error = refusal(family, **{key: value})
    allowed = rules().fields(family)[key]["choices"]
    assert names(error, key)
    for message in (error.message.render("zh"), error.message.render("en")):
        assert all(choice in message for choice in allowed)


SPECIES_OF_OTHER_FAMILIES = [
    ("jade", "ruby"),
    ("jade", "amber"),
    ("gemstone", "jadeite"),
    ("gemstone", "diamond"),
    ("diamond", "ruby"),
    ("organic", "diamond"),
    ("organic", "nephrite"),
    ("imitation", "amber"),
    ("imitation", "jadeite"),
    ("jade", "unobtainium"),
]


@pytest.mark.parametrize(("family", "species"), SPECIES_OF_OTHER_FAMILIES)
def test_species_outside_the_family_is_refused(family: str, species: str) -> None:
    error = refusal(family, species=species)
    assert names(error, "species")
    assert species not in error.message.render("en").partition(":")[2].split()


@pytest.mark.parametrize(("family", "species"), [("jade", "jadeite"), ("organic", "amber")])
def test_species_of_the_family_is_accepted(family: str, species: str) -> None:
    assert parsed(family, species=species)["species"] == species


TOO_LONG = [
    ("precious_metal", "stamp", 40),
    ("jade", "variety", 20),
    ("jade", "skin_colour", 20),
    ("organic", "colour", 40),
    ("gemstone", "shape", 40),
    ("diamond", "observations", 500),
]


@pytest.mark.parametrize(("family", "key", "limit"), TOO_LONG)
def test_text_over_its_length_is_refused(family: str, key: str, limit: int) -> None:
    error = refusal(family, **{key: "玉" * (limit + 1)})
    assert names(error, key)
    for message in (error.message.render("zh"), error.message.render("en")):
        assert str(limit) in message


@pytest.mark.parametrize(("family", "key", "limit"), TOO_LONG)
def test_text_at_its_length_is_kept_trimmed(family: str, key: str, limit: int) -> None:
    assert parsed(family, **{key: "  " + "玉" * limit + "\n"})[key] == "玉" * limit


@pytest.mark.parametrize("value", [123, 1.5, True, ["足金"]], ids=repr)
def test_text_must_be_text(value: Any) -> None:
    error = refusal("precious_metal", stamp=value)
    assert names(error, "stamp")


# -- keys ---------------------------------------------------------------------------------------

UNKNOWN = [
    ("diamond", {"colour_grade": "D"}, ["colour_grade"]),
    ("precious_metal", {"fineness": "999"}, ["fineness"]),
    ("precious_metal", {"ri": "1.66"}, ["ri"]),  # a key of other families
    ("imitation", {"ir_polymer": True}, ["ir_polymer"]),
    ("organic", {"growth": "natural"}, ["growth"]),
    ("jade", {"origin": "新疆", "zz": "1"}, ["origin", "zz"]),
]


@pytest.mark.parametrize(("family", "extra", "keys"), UNKNOWN)
def test_unknown_keys_are_refused_naming_them(
    family: str, extra: dict[str, Any], keys: list[str]
) -> None:
    error = refusal(family, **extra)
    for message in (error.message.render("zh"), error.message.render("en")):
        assert all(key in message for key in keys)


REQUIRED = [(family, key) for family, base in BASE.items() for key in base]


@pytest.mark.parametrize(("family", "key"), REQUIRED)
@pytest.mark.parametrize("absent", ["missing", None, ""])
def test_missing_required_key_is_refused_naming_it(family: str, key: str, absent: Any) -> None:
    raw = {k: v for k, v in BASE[family].items() if k != key}
    if absent != "missing":
        raw[key] = absent
    with pytest.raises(ValidationFailed) as refused:
        validate(rules(), family, raw)
    assert names(refused.value, key)


def test_optional_keys_may_be_absent_or_empty() -> None:
    result = parsed("jade", species="", ri=None, observations="")
    assert set(result) == {"mass_g"}


# -- cross-field ----------------------------------------------------------------------------------


def test_ri_high_below_ri_is_refused() -> None:
    error = refusal("gemstone", ri="1.770", ri_high="1.762")
    assert names(error, "ri_high")


def test_ri_high_equal_to_ri_is_accepted() -> None:
    result = parsed("gemstone", ri="1.544", ri_high="1.544")
    assert result["ri_high"] == result["ri"] == Decimal("1.544")


# -- the refusal itself ---------------------------------------------------------------------------

EVERY_REFUSAL: list[tuple[str, dict[str, Any], str]] = [
    ("jade", {"ri": "7.2"}, "ri"),
    ("precious_metal", {"fineness_permille": "1200"}, "fineness_permille"),
    ("jade", {"mass_g": "1.234"}, "mass_g"),
    ("jade", {"dye": "true"}, "dye"),
    ("jade", {"species": "ruby"}, "species"),
    ("jade", {"observations": "x" * 501}, "observations"),
    ("jade", {"mass_g": ""}, "mass_g"),
    ("jade", {"weight": "1"}, "weight"),
    ("gemstone", {"ri": "1.77", "ri_high": "1.76"}, "ri_high"),
]


@pytest.mark.parametrize(("family", "changes", "key"), EVERY_REFUSAL)
def test_refusals_are_bilingual_and_name_the_field(
    family: str, changes: dict[str, Any], key: str
) -> None:
    error = refusal(family, **changes)
    assert error.status == 422 and error.code == "validation_failed"
    assert error.message.render("zh").strip() and error.message.render("en").strip()
    assert error.message.render("zh") != error.message.render("en")
    # An unknown key has no name but its own.
    assert names(error, key) if key in rules().raw["fields"] else key in error.message.render("en")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message.render("zh"))


def test_unknown_declaration_code_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules().family_of("AU999")
    assert "AU999" in refused.value.message.render(
        "zh"
    ) and "AU999" in refused.value.message.render("en")


def test_validation_does_not_change_its_input() -> None:
    raw = {"mass_g": " 10.02 ", "species": "jadeite", "observations": " 翠性 "}
    before = dict(raw)
    validate(rules(), "jade", raw)
    assert raw == before
