"""Properties of the rules engine over arbitrary forms, for every declaration code.

Forms are built from the family's own field specs: "wild" forms (any value of any type, in or
out of range, missing keys, unknown keys) and "plausible" forms (a species of the family with
readings inside its constants, as a lab would send them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc_app.errors import ValidationFailed
from qc_app.rules.engine import Judgement, judge, load_ruleset, validate

VERSION = "2026.11-2"
RULES = load_ruleset(VERSION)  # immutable and cached by the engine: no state shared by tests
CODES = sorted(RULES.declarations)
RECORDED_ONLY = {"origin_recorded", "variety_recorded", "skin_colour_recorded"}
CLAIM_TERMS = sorted({term for spec in RULES.raw["claim_terms"].values() for term in spec["terms"]})

FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass(frozen=True)
class Form:
    code: str
    raw: dict[str, Any]
    declared_mass: Decimal
    brand: str = ""
    text: str = ""

    @property
    def family(self) -> str:
        return RULES.family_of(self.code)


def run(form: Form) -> Judgement:
    measurements = validate(RULES, form.family, form.raw)
    return judge(
        RULES,
        declared_code=form.code,
        declared_mass_g=form.declared_mass,
        measurements=measurements,
        declared_brand=form.brand,
        declared_text=form.text,
    )


def judged_or_none(form: Form) -> Judgement | None:
    """The judgement, or None when the engine refuses the form (ValidationFailed only)."""
    try:
        return run(form)
    except ValidationFailed as refused:
        assert refused.message.render("zh").strip() and refused.message.render("en").strip()
        return None


def tolerance(code: str) -> Decimal:
    declared = RULES.declaration(code)
    table = RULES.raw["mass_tolerance"]
    key = str(declared["metal"]) if declared["family"] == "precious_metal" else "default"
    return Decimal((table.get(key) or table["default"])["max_shortfall_g"])


# -- values ------------------------------------------------------------------------------------


def digits(spec: Mapping[str, Any]) -> int:
    return -int(Decimal(spec["places"]).as_tuple().exponent)


def as_api(value: Decimal) -> st.SearchStrategy[Any]:
    """A decimal as a client sends it: a JSON string or a JSON number."""
    options: list[Any] = [str(value), float(value)]
    if value == value.to_integral_value():
        options.append(int(value))
    return st.sampled_from(options)


def decimals_between(low: Decimal, high: Decimal, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=low, max_value=high, places=places)


def wild_decimal(spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    low, high, places = Decimal(spec["min"]), Decimal(spec["max"]), digits(spec)
    span = high - low
    return st.one_of(
        decimals_between(low, high, places).flatmap(as_api),
        decimals_between(low - span, high + span, places).flatmap(as_api),
        decimals_between(low, high, places + 2).map(str),
        st.sampled_from(["", " ", "abc", "NaN", "-Infinity", "1,5", "0x10", "１２"]),
        st.text(max_size=6),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.none(),
    )


def wild_value(key: str, spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    kind = spec["type"]
    if kind == "decimal":
        return wild_decimal(spec)
    if kind == "choice":
        choices = list(spec["choices"])
        if key == "species":
            choices += list(RULES.species)  # species of other families too
        return st.one_of(st.sampled_from(choices), st.text(max_size=5), st.integers(), st.none())
    if kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["true", "false", 1, 0, "", None]))
    limit = int(spec["max_length"])
    return st.one_of(st.text(max_size=limit + 3), st.integers(), st.none())


MISSING = object()


@st.composite
def wild_forms(draw: st.DrawFn) -> Form:
    code = draw(st.sampled_from(CODES))
    fields = RULES.fields(RULES.family_of(code))
    raw: dict[str, Any] = {}
    for key, spec in fields.items():
        value = draw(st.one_of(st.just(MISSING), wild_value(key, spec)))
        if value is not MISSING:
            raw[key] = value
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.sampled_from(["bogus", "origin", "weight", "ri_low"]))] = "1"
    declared = draw(decimals_between(Decimal("0.01"), Decimal("1000"), 2))
    return Form(code, raw, declared, draw(st.sampled_from(["", "周大福"])), draw(st.text()))


# -- plausible forms: what a lab would send -----------------------------------------------------


def reading(spec: Mapping[str, Any], bounds: list[str]) -> st.SearchStrategy[Decimal]:
    return decimals_between(Decimal(bounds[0]), Decimal(bounds[1]), digits(spec))


@st.composite
def measured_mass(draw: st.DrawFn, declared: Decimal, least: Decimal) -> Decimal:
    """Near the declared mass; never below `least` g under it."""
    low = max(-30, -int(least * 100))
    delta = draw(st.integers(min_value=low, max_value=30)) * Decimal("0.01")
    return max(declared + delta, Decimal("0.01"))


def marks_of(code: str) -> list[str]:
    return [mark for mark, grade in RULES.raw["stamp_grades"].items() if grade == code]


@st.composite
def metal_form(draw: st.DrawFn, code: str, faithful: bool) -> dict[str, Any]:
    declared = RULES.declaration(code)
    fields = RULES.fields("precious_metal")
    if faithful:  # the declared metal at or above its grade, stamped with its own mark or not
        metal = declared["metal"]
        low = declared["min_permille"]
        stamps = [None, *marks_of(code)]
    else:
        metal = draw(st.sampled_from([declared["metal"], *fields["metal"]["choices"]]))
        low = "0"
        stamps = [None, *RULES.raw["stamp_grades"], "千足金", "X足金"]
    fineness = reading(fields["fineness_permille"], [low, "1000"])
    raw: dict[str, Any] = {"metal": metal, "fineness_permille": draw(fineness.flatmap(as_api))}
    stamp = draw(st.sampled_from(stamps))
    if stamp is not None:
        raw["stamp"] = stamp
    return raw


def methods(fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [k for k, f in fields.items() if f["type"] == "bool" and "method_zh" in f]


@st.composite
def gem_form(draw: st.DrawFn, code: str, faithful: bool) -> dict[str, Any]:
    family = RULES.family_of(code)
    fields = RULES.fields(family)
    if faithful:  # a species and kind the declaration accepts
        accepts = RULES.declaration(code)["accepts"]
        species = draw(st.sampled_from(sorted(accepts)))
        kind = set(draw(st.sampled_from(accepts[species])).split("+"))
    else:
        species = draw(st.sampled_from(list(fields["species"]["choices"])))
        kind = set()
    spec = RULES.species[species]
    raw: dict[str, Any] = {"species": species}
    synthetic = "synthetic" in kind or (
        not faithful and "synthetic_name_zh" in spec and draw(st.booleans())
    )
    if family == "diamond":
        if species != "diamond":
            raw["growth"] = "simulant"
        else:
            growths = ["hpht", "cvd"] if synthetic else ["natural"]
            raw["growth"] = draw(st.sampled_from(growths))
            if draw(st.booleans()):
                del raw["species"]  # natural / hpht / cvd already say "diamond"
    elif "growth" in fields:
        raw["growth"] = "synthetic" if synthetic else "natural"
    for key in ("ri", "sg"):
        if key in fields and key in spec and draw(st.booleans()):
            raw[key] = draw(reading(fields[key], spec[key]).flatmap(as_api))
    if "ri_high" in fields and "ri" in raw and draw(st.booleans()):
        low = Decimal(str(raw["ri"])).quantize(Decimal("0.001"))
        raw["ri_high"] = str(draw(reading(fields["ri_high"], [str(low), spec["ri"][1]])))
    if "optic" in fields and draw(st.booleans()):
        raw["optic"] = spec["optic"]
    for key in methods(fields):
        if draw(st.booleans()):
            raw[key] = False if faithful else draw(st.booleans())
    if "treated" in kind:
        raw[draw(st.sampled_from(methods(fields)))] = True
    if "reconstructed" in fields and spec.get("reconstructable"):
        raw["reconstructed"] = "reconstructed" in kind or (not faithful and draw(st.booleans()))
    if "uv_fluorescence" in fields and draw(st.booleans()):
        raw["uv_fluorescence"] = draw(st.sampled_from(list(fields["uv_fluorescence"]["choices"])))
    return raw


@st.composite
def plausible_forms(
    draw: st.DrawFn, codes: list[str] | None = None, faithful: bool | None = None
) -> Form:
    """A lab's form; half of them faithful to the declaration, so that passes are common."""
    code = draw(st.sampled_from(codes or CODES))
    family = RULES.family_of(code)
    if faithful is None:
        faithful = draw(st.booleans())
    form = metal_form if family == "precious_metal" else gem_form
    raw = draw(form(code, faithful))
    declared = draw(decimals_between(Decimal("0.01"), Decimal("500"), 2))
    least = tolerance(code) if faithful else Decimal("0.30")
    raw["mass_g"] = draw(measured_mass(declared, least).flatmap(as_api))
    brand = draw(st.sampled_from(["", "周大福", "DR"]))
    marks = ["matches"] if faithful and brand else [None, "matches", "differs", "absent"]
    mark = draw(st.sampled_from(marks))
    if mark is not None:
        raw["brand_mark"] = mark
    if "observations" in RULES.fields(family) and draw(st.booleans()):
        raw["observations"] = draw(st.text(max_size=500))
    return Form(code, raw, declared, brand)


@st.composite
def mutated_forms(draw: st.DrawFn) -> Form:
    """A plausible form with one or two keys dropped or given any value."""
    form = draw(plausible_forms())
    fields = RULES.fields(form.family)
    raw = dict(form.raw)
    for key in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=2)):
        value = draw(st.one_of(st.just(MISSING), wild_value(key, fields[key])))
        if value is MISSING:
            raw.pop(key, None)
        else:
            raw[key] = value
    return replace(form, raw=raw)


any_forms = st.one_of(wild_forms(), plausible_forms(), mutated_forms())


def codes(j: Judgement, *, decisive: bool) -> set[str]:
    return {r.code for r in j.reasons if r.decisive is decisive}


# -- properties -----------------------------------------------------------------------------------


@FAST
@given(any_forms)
def test_a_form_is_judged_or_refused_with_validation_failed(form: Form) -> None:
    j = judged_or_none(form)  # any exception but ValidationFailed fails the test
    if j is not None:
        assert j.verdict in {"pass", "fail"}
        assert j.rule_version == VERSION


@FAST
@given(
    code=st.sampled_from(CODES),
    key=st.sampled_from(["mass_g", "fineness_permille", "ri", "sg"]),
    value=st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.builds(lambda m, e: f"{m}e{e}", st.integers(-99, 99), st.integers(-400, 400)),
    ),
)
def test_any_number_is_parsed_or_refused_never_crashes(code: str, key: str, value: Any) -> None:
    family = RULES.family_of(code)
    if key not in RULES.fields(family):
        key = "mass_g"
    raw = {"mass_g": "1.00", "metal": "Au", "fineness_permille": "999", "growth": "natural"}
    raw = {k: v for k, v in raw.items() if k in RULES.fields(family)}
    raw[key] = value
    try:
        parsed = validate(RULES, family, raw)
    except ValidationFailed as refused:
        assert RULES.fields(family)[key]["label_en"] in refused.message.render("en")
        return
    spec = RULES.fields(family)[key]
    assert Decimal(spec["min"]) <= Decimal(str(parsed[key])) <= Decimal(spec["max"])


@FAST
@given(plausible_forms())
def test_plausible_readings_are_always_judged(form: Form) -> None:
    try:
        run(form)
    except ValidationFailed as refused:  # pragma: no cover - the failure message
        raise AssertionError(f"{form}: {refused.message.render('en')}") from refused


@FAST
@given(plausible_forms(faithful=True))
def test_a_form_faithful_to_its_declaration_passes(form: Form) -> None:
    j = run(form)
    assert (j.verdict, codes(j, decisive=True)) == ("pass", set())


@FAST
@given(any_forms)
def test_every_name_is_in_the_vocabulary(form: Form) -> None:
    j = judged_or_none(form)
    if j is not None:
        assert j.name_zh in RULES.vocabulary()


@FAST
@given(any_forms)
def test_verdict_is_pass_iff_no_decisive_reason(form: Form) -> None:
    j = judged_or_none(form)
    if j is not None:
        assert (j.verdict == "pass") is (not codes(j, decisive=True))
        assert all(r.zh and r.en for r in j.reasons)


@st.composite
def claims(draw: st.DrawFn) -> str:
    terms = draw(st.lists(st.sampled_from(CLAIM_TERMS), min_size=1, max_size=4))
    filler = draw(st.lists(st.text(max_size=4), min_size=len(terms), max_size=len(terms)))
    return "".join(f + t for f, t in zip(filler, terms, strict=True))


@FAST
@given(plausible_forms(), claims(), st.text(min_size=1, max_size=20))
def test_origin_variety_and_skin_claims_never_change_the_verdict(
    form: Form, text: str, extra: str
) -> None:
    plain = run(form)
    raw = dict(form.raw)
    if "variety" in RULES.fields(form.family):
        raw |= {"variety": extra, "skin_colour": extra}
    claimed = run(replace(form, raw=raw, text=text))
    assert claimed.verdict == plain.verdict
    assert claimed.name_zh == plain.name_zh
    assert codes(claimed, decisive=True) == codes(plain, decisive=True)
    added = codes(claimed, decisive=False) - codes(plain, decisive=False)
    assert added and added <= RECORDED_ONLY


@FAST
@given(any_forms)
def test_judging_is_deterministic_and_leaves_the_form_alone(form: Form) -> None:
    before = repr(form.raw)
    first = judged_or_none(form)
    second = judged_or_none(
        Form(form.code, dict(form.raw), form.declared_mass, form.brand, form.text)
    )
    assert first == second
    assert repr(form.raw) == before


@FAST
@given(plausible_forms())
def test_a_pass_is_never_lighter_than_declared_minus_tolerance(form: Form) -> None:
    j = run(form)
    measured = Decimal(str(form.raw["mass_g"]))
    short = form.declared_mass - measured > tolerance(form.code)
    if j.verdict == "pass":
        assert not short
    assert short is ("mass_short" in codes(j, decisive=True))


@FAST
@given(plausible_forms(), st.integers(min_value=0, max_value=10_000))
def test_at_or_above_the_declared_mass_is_recorded_not_failed(form: Form, extra_cg: int) -> None:
    measured = form.declared_mass + Decimal(extra_cg) / 100
    j = run(replace(form, raw={**form.raw, "mass_g": str(measured)}))
    assert "mass_short" not in codes(j, decisive=True)
    assert ("mass_over" in codes(j, decisive=False)) is (extra_cg > 0)


METAL_CODES = [c for c in CODES if RULES.declaration(c)["family"] == "precious_metal"]
GEM_CODES = [c for c in CODES if c not in METAL_CODES]


@FAST
@given(plausible_forms(METAL_CODES))
def test_a_metal_passes_only_at_or_above_its_declared_grade(form: Form) -> None:
    j = run(form)
    declared = RULES.declaration(form.code)
    fineness = Decimal(str(form.raw["fineness_permille"]))
    meets = form.raw["metal"] == declared["metal"] and fineness >= Decimal(declared["min_permille"])
    if j.verdict == "pass":
        assert meets
    if not meets:
        assert codes(j, decisive=True) & {"metal_mismatch", "fineness_below_declared"}


@FAST
@given(plausible_forms(METAL_CODES))
def test_a_metal_is_named_by_the_highest_grade_it_meets(form: Form) -> None:
    j = run(form)
    metal = form.raw["metal"]
    fineness = Decimal(str(form.raw["fineness_permille"]))
    met = [spec for _, spec in RULES.grades(metal) if fineness >= Decimal(spec["min_permille"])]
    if met:
        assert j.name_zh == max(met, key=lambda s: Decimal(s["min_permille"]))["name_zh"]
    else:
        assert j.name_zh == RULES.metals[metal]["below_grade_zh"]


@FAST
@given(plausible_forms(GEM_CODES))
def test_a_passing_gem_is_a_species_the_declaration_accepts(form: Form) -> None:
    j = run(form)
    accepts = RULES.declaration(form.code)["accepts"]
    if j.verdict == "pass":
        assert j.species in accepts
    if j.species not in accepts:
        assert "material_mismatch" in codes(j, decisive=True)


@FAST
@given(plausible_forms(GEM_CODES))
def test_treated_synthetic_or_reconstructed_never_passes_a_plain_declaration(form: Form) -> None:
    j = run(form)
    accepts = RULES.declaration(form.code)["accepts"]
    plain_only = all(kinds == ["plain"] for kinds in accepts.values())
    modified = j.name_zh.endswith("（处理）") or j.name_zh.startswith(("合成", "再造"))
    if plain_only and modified:
        assert j.verdict == "fail"


TREATMENTS: list[Callable[[dict[str, Any]], bool]] = [
    lambda raw: any(raw.get(k) is True for k in ("ir_polymer", "dye", "coating", "diffusion")),
    lambda raw: any(
        raw.get(k) is True
        for k in ("inorganic_filling", "irradiation", "hpht_treated", "laser_drilled")
    ),
]


@FAST
@given(plausible_forms(GEM_CODES))
def test_a_treated_natural_stone_is_named_treated(form: Form) -> None:
    j = run(form)
    spec = RULES.species[str(j.species)]
    treated = any(found(form.raw) for found in TREATMENTS)
    if spec["class"].startswith("natural") and form.raw.get("growth", "natural") == "natural":
        assert j.name_zh.endswith("（处理）") is treated
