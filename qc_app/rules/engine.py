"""Judge an item: measurements in, the name a certificate must use and a verdict out.

The thresholds, names and vocabularies are data (rules/data/rules-<version>.json, each value
with its source); this module holds only the small functions that apply them. Everything here
is pure and deterministic: no Flask, no session, no clock.

How a name is reached (GB 11887 for metals, GB/T 16552 for gems and jade):
- metals: the highest grade whose minimum the measured fineness meets (no negative tolerance);
- everything else: the species (given by the analyst, or the only one whose constants fit the
  RI / SG / polariscope readings), then 合成 / 再造 prefixes and the （处理） suffix from the
  screening results. Treatments of imitation materials do not change their name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any, NotRequired

from typing_extensions import TypedDict

from qc_app.errors import FieldErrors, ValidationFailed
from qc_app.i18n import Message, bilingual, msg, verbatim
from qc_app.rules import grading
from qc_app.rules.grading import GradingRecord
from qc_app.units import to_decimal

DATA = Path(__file__).parent / "data"
CURRENT_VERSION = "2026.11-3"

Value = Decimal | str | bool
Measurements = dict[str, Value]

NATURAL_CLASSES = frozenset({"natural_jade", "natural_gem", "natural_organic"})
SYNTHETIC_GROWTH = frozenset({"synthetic", "hpht", "cvd"})
PLAIN = "plain"


class ReasonRecord(TypedDict):
    """A Reason as stored with its inspection and shown by the pages and the API."""

    code: str
    zh: str
    en: str
    decisive: bool


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    decisive: bool  # True: this reason fails the item; False: recorded only

    @classmethod
    def said(cls, code: str, text: Message, decisive: bool) -> Reason:
        """A reason of ours: one Message, kept (with the inspection) and sent in both languages."""
        return cls(code, text.render("zh"), text.render("en"), decisive)

    def as_dict(self) -> ReasonRecord:
        return {"code": self.code, "zh": self.zh, "en": self.en, "decisive": self.decisive}


class GroupRecord(TypedDict):
    """Beads of a string not as declared, as stored, signed and printed: how many, what the
    analyst identified them as (species and treatments found) and the name that gives."""

    count: str
    measured: dict[str, str | bool]
    name_zh: str
    name_en: str


class PartRecord(TypedDict):
    """A judged component as stored with its inspection, signed and printed."""

    index: int
    declared: dict[str, str]
    name_zh: str
    name_en: str
    verdict: str
    reasons: list[ReasonRecord]
    measured: dict[str, str | bool]
    grading: GradingRecord | None
    # A bead string's beads not as declared (absent when every bead is as declared).
    beads_not_as_declared: NotRequired[list[GroupRecord]]


def _as_text(m: Measurements) -> dict[str, str | bool]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in m.items()}


@dataclass(frozen=True)
class BeadGroup:
    """Some beads of a string identified as something other than the declared material."""

    count: Decimal
    measured: Measurements  # species and the screening results of these beads
    outcome: Outcome

    def as_dict(self) -> GroupRecord:
        return {
            "count": str(self.count),
            "measured": _as_text(self.measured),
            "name_zh": self.outcome.name_zh,
            "name_en": self.outcome.name_en,
        }


@dataclass(frozen=True)
class PartResult:
    """One component of a set piece: what it was declared as, what it is, and its verdict."""

    index: int  # 1-based, in the declared order
    declared: Mapping[str, str]
    outcome: Outcome
    reasons: tuple[Reason, ...]
    measured: Measurements
    grading: GradingRecord | None = None
    groups: tuple[BeadGroup, ...] = ()  # a bead string's beads not as declared

    @property
    def verdict(self) -> str:
        return verdict_of(self.reasons)

    def as_dict(self) -> PartRecord:
        record: PartRecord = {
            "index": self.index,
            "declared": dict(self.declared),
            "name_zh": self.outcome.name_zh,
            "name_en": self.outcome.name_en,
            "verdict": self.verdict,
            "reasons": [r.as_dict() for r in self.reasons],
            "measured": _as_text(self.measured),
            "grading": self.grading,
        }
        if self.groups:
            record["beads_not_as_declared"] = [g.as_dict() for g in self.groups]
        return record


@dataclass(frozen=True)
class Judgement:
    material_code: str
    name_zh: str
    name_en: str
    verdict: str  # "pass" | "fail"
    reasons: tuple[Reason, ...]
    rule_version: str
    species: str | None = None
    grading: GradingRecord | None = None  # GB/T 16554, when a natural diamond was graded
    parts: tuple[PartResult, ...] = ()  # each declared component of a set piece, in order


@dataclass(frozen=True)
class Outcome:
    """What the item is, before it is compared with the declaration."""

    code: str
    name_zh: str
    name_en: str
    species: str | None
    kind: str  # "plain", or the modifiers joined by "+": "treated", "synthetic+treated", ...
    notes: tuple[Reason, ...] = ()


@dataclass(frozen=True, eq=False)  # hashed by identity: load_ruleset caches one per version
class RuleSet:
    version: str
    raw: Mapping[str, Any]

    @property
    def declarations(self) -> Mapping[str, Mapping[str, Any]]:
        return self.raw["declarations"]  # type: ignore[no-any-return]

    @property
    def families(self) -> Mapping[str, Mapping[str, Any]]:
        return self.raw["families"]  # type: ignore[no-any-return]

    @property
    def species(self) -> Mapping[str, Mapping[str, Any]]:
        return self.raw.get("species", {})  # type: ignore[no-any-return]

    @property
    def metals(self) -> Mapping[str, Mapping[str, str]]:
        return self.raw["metals"]  # type: ignore[no-any-return]

    def declaration(self, code: str) -> Mapping[str, Any]:
        try:
            return self.declarations[code]
        except KeyError:
            raise ValidationFailed(msg("未知的材质代码：{code}", code=code)) from None

    def material_name(self, code: str) -> Message:
        """A material code (AU750, JADEITE) as people call it: 18K金 / 18K gold."""
        spec = self.declarations.get(code)
        return bilingual(spec["name_zh"], spec["name_en"]) if spec else verbatim(code)

    def field_label(self, key: str) -> Message:
        """A measurement key (fineness_permille) as the lab form names it: 含量（XRF）."""
        spec = self.raw["fields"].get(key)
        return bilingual(spec["label_zh"], spec["label_en"]) if spec else verbatim(key)

    def family_of(self, code: str) -> str:
        return str(self.declaration(code)["family"])

    def fields(self, family: str) -> Mapping[str, Mapping[str, Any]]:
        """The family's measurement keys, each the shared definition plus the family's choices."""
        return _family_fields(self, family)

    def grades(self, metal: str) -> tuple[tuple[str, Mapping[str, Any]], ...]:
        """GB 11887 grades of one metal, highest minimum first."""
        return _grades(self, metal)

    def vocabulary(self) -> frozenset[str]:
        """Every name the engine may put on a certificate under this rule version."""
        return _vocabulary(self)


@cache
def load_ruleset(version: str = CURRENT_VERSION) -> RuleSet:
    raw = json.loads((DATA / f"rules-{version}.json").read_text(encoding="utf-8"))
    return RuleSet(version=raw["version"], raw=raw)


@cache
def _family_fields(rules: RuleSet, family: str) -> Mapping[str, Mapping[str, Any]]:
    shared = rules.raw.get("fields")
    own = rules.families[family]["fields"]
    if shared is None:  # rule versions before 2026.11-2 spelled every field out per family
        return own  # type: ignore[no-any-return]
    return {key: {**shared[key], **override} for key, override in own.items()}


@cache
def _grades(rules: RuleSet, metal: str) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    found = [
        (code, spec)
        for code, spec in rules.declarations.items()
        if spec["family"] == "precious_metal" and spec["metal"] == metal
    ]
    return tuple(sorted(found, key=lambda cs: Decimal(cs[1]["min_permille"]), reverse=True))


@cache
def _vocabulary(rules: RuleSet) -> frozenset[str]:
    names = {spec["name_zh"] for spec in rules.declarations.values() if "metal" in spec}
    names |= {m["below_grade_zh"] for m in rules.metals.values() if "below_grade_zh" in m}
    for code in rules.species:
        for mods in _possible_modifiers(rules, code):
            names.add(_name(rules, code, mods)[0])
    return frozenset(names)


def _possible_modifiers(rules: RuleSet, code: str) -> Iterable[frozenset[str]]:
    spec = rules.species[code]
    options = []
    if spec["class"] in NATURAL_CLASSES:
        options.append("treated")
    if "synthetic_name_zh" in spec:
        options.append("synthetic")
    if spec.get("reconstructable"):
        options.append("reconstructed")
    for size in range(len(options) + 1):
        for combo in combinations(options, size):
            if "synthetic" not in combo or combo == ("synthetic",):
                yield frozenset(combo)


# --- parsing ---------------------------------------------------------------------------------


def validate(rules: RuleSet, family: str, raw: Mapping[str, Any]) -> Measurements:
    """Parse a measurement form or JSON body: exact decimals, in range, no unknown keys."""
    errors = FieldErrors()
    parsed = validate_fields(rules.fields(family), raw, errors)
    errors.check()
    return parsed


def validate_fields(
    fields: Mapping[str, Mapping[str, Any]],
    raw: Mapping[str, Any],
    errors: FieldErrors,
    *,
    prefix: str = "",
) -> Measurements:
    """`validate` over any set of field definitions (a family's, a set piece's or a part's):
    every bad field's problem goes into `errors` under its form name (`prefix` + key), so a
    form names them all at once; the caller calls `errors.check()`."""
    unknown = sorted(str(key) for key in set(raw) - set(fields))
    if unknown:
        raise ValidationFailed(msg("未知的测量项：{unknown}", unknown=", ".join(unknown)))
    parsed: Measurements = {}
    for key, spec in fields.items():
        value = raw.get(key)
        if value is None or value == "":
            if spec["required"]:
                errors.add(prefix + key, msg("缺少测量项：{field}", field=_label(spec)))
            continue
        try:
            parsed[key] = _parse_field(spec, value)
        except ValidationFailed as exc:
            errors.add(prefix + key, exc.message)
    if "ri_high" in parsed and Decimal(str(parsed["ri_high"])) < Decimal(str(parsed.get("ri", 0))):
        errors.add(
            prefix + "ri_high",
            msg("{high}不能小于{low}", high=_label(fields["ri_high"]), low=_label(fields["ri"])),
        )
    return parsed


def _label(spec: Mapping[str, Any]) -> Message:
    return bilingual(spec["label_zh"], spec["label_en"])


def _parse_field(spec: Mapping[str, Any], value: Any) -> Value:
    kind = spec["type"]
    if kind == "decimal":
        number = to_decimal(value, field=_label(spec), places=Decimal(spec["places"]))
        low, high, unit = Decimal(spec["min"]), Decimal(spec["max"]), spec["unit"]
        if not low <= number <= high:
            raise ValidationFailed(
                msg(
                    "{field}超出范围 {low}–{high} {unit}：{number}",
                    field=_label(spec),
                    low=low,
                    high=high,
                    unit=unit,
                    number=number,
                ),
            )
        return number
    if kind == "choice":
        if value not in spec["choices"]:
            allowed = " ".join(spec["choices"])
            raise ValidationFailed(
                msg("{field}须为：{allowed}", field=_label(spec), allowed=allowed)
            )
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationFailed(msg("{field}须为 true/false", field=_label(spec)))
        return value
    if not isinstance(value, str):
        raise ValidationFailed(msg("{field}须为文字", field=_label(spec)))
    text = value.strip()
    if len(text) > int(spec["max_length"]):
        raise ValidationFailed(
            msg(
                "{field}过长（最多 {max_length} 字）",
                field=_label(spec),
                max_length=spec["max_length"],
            ),
        )
    return text


# --- judging ---------------------------------------------------------------------------------


def judge(
    rules: RuleSet,
    *,
    declared_code: str,
    declared_mass_g: Decimal,
    measurements: Measurements,
    declared_brand: str = "",
    declared_text: str = "",
) -> Judgement:
    """Name the item from its measurements and compare the name with the declaration.

    `declared_text` is what the merchant wrote (item description, listing title): claims of
    origin, variety or skin colour found there are recorded, never decisive.
    """
    m = measurements
    outcome, reasons = judge_material(rules, declared_code, m)
    graded = None
    if grading.requested(m):
        grams = m.get("diamond_mass_g")
        graded = grading.grade(
            rules.raw["diamond_grading"],
            species=outcome.species,
            kind=outcome.kind,
            m=m,
            carat=grading.carat_of(Decimal(str(grams))) if grams is not None else None,
            mounted=False,
        )
    reasons += piece_reasons(
        rules,
        tolerance_key=mass_tolerance_key(rules, declared_code),
        declared_mass_g=declared_mass_g,
        m=m,
        declared_brand=declared_brand,
        declared_text=declared_text,
    )
    return Judgement(
        outcome.code,
        outcome.name_zh,
        outcome.name_en,
        verdict_of(reasons),
        tuple(reasons),
        rules.version,
        outcome.species,
        graded,
    )


def verdict_of(reasons: Iterable[Reason]) -> str:
    return "fail" if any(r.decisive for r in reasons) else "pass"


def judge_material(
    rules: RuleSet, declared_code: str, m: Measurements
) -> tuple[Outcome, list[Reason]]:
    """What one material (a whole item, or one part of a set piece) is, against its declaration."""
    declared = rules.declaration(declared_code)
    if declared["family"] == "precious_metal":
        outcome = _metal_outcome(rules, m)
        reasons = _metal_reasons(rules, declared_code, declared, outcome, m)
    else:
        outcome = _gem_outcome(rules, str(declared["family"]), m)
        reasons = _material_reasons(declared, outcome)
    return outcome, reasons + list(outcome.notes)


def mass_tolerance_key(rules: RuleSet, declared_code: str) -> str:
    """The mass tolerance that applies: the metal's, else the default."""
    return str(rules.declaration(declared_code).get("metal", "default"))


def piece_reasons(
    rules: RuleSet,
    *,
    tolerance_key: str,
    declared_mass_g: Decimal,
    m: Measurements,
    declared_brand: str,
    declared_text: str,
) -> list[Reason]:
    """What is judged of the whole piece: brand mark, total mass, recorded claims."""
    reasons = _brand_reasons(declared_brand, m.get("brand_mark"))
    reasons += _mass_reasons(rules, tolerance_key, declared_mass_g, Decimal(str(m["mass_g"])))
    reasons += _recorded_claims(rules, declared_text, m)
    return reasons


# metals


def _metal_outcome(rules: RuleSet, m: Measurements) -> Outcome:
    """The highest GB 11887 grade the measured fineness meets (fineness is a minimum)."""
    metal, fineness = str(m["metal"]), Decimal(str(m["fineness_permille"]))
    for code, spec in rules.grades(metal):
        if fineness >= Decimal(spec["min_permille"]):
            return Outcome(code, spec["name_zh"], spec["name_en"], None, PLAIN)
    names = rules.metals[metal]
    return Outcome(
        f"{metal.upper()}_SUBGRADE", names["below_grade_zh"], names["below_grade_en"], None, PLAIN
    )


def _metal_reasons(
    rules: RuleSet,
    declared_code: str,
    declared: Mapping[str, Any],
    outcome: Outcome,
    m: Measurements,
) -> list[Reason]:
    metal, fineness = str(m["metal"]), Decimal(str(m["fineness_permille"]))
    reasons: list[Reason] = []
    if metal != declared["metal"]:
        found = rules.metals[metal]
        reasons.append(
            Reason.said(
                "metal_mismatch",
                msg(
                    "申报为{declared_zh}，检测主要成分为{found_zh}",
                    declared_zh=declared["name_zh"],
                    declared_en=declared["name_en"],
                    found_zh=found["name_zh"],
                    found_en=found["name_en"],
                ),
                True,
            )
        )
    elif fineness < Decimal(declared["min_permille"]):
        reasons.append(
            Reason.said(
                "fineness_below_declared",
                msg(
                    "含量 {fineness}‰ 低于{declared_zh}要求的 {minimum}‰（不允许负公差），"
                    "应定名为{named_zh}",
                    fineness=fineness,
                    minimum=declared["min_permille"],
                    declared_zh=declared["name_zh"],
                    declared_en=declared["name_en"],
                    named_zh=outcome.name_zh,
                    named_en=outcome.name_en,
                ),
                True,
            )
        )
    elif outcome.code != declared_code:
        reasons.append(
            Reason.said(
                "fineness_above_declared",
                msg(
                    "含量 {fineness}‰ 高于申报，按实测定名为{named_zh}",
                    fineness=fineness,
                    named_zh=outcome.name_zh,
                    named_en=outcome.name_en,
                ),
                False,
            )
        )
    stamp = m.get("stamp")
    if isinstance(stamp, str) and stamp:
        reasons += _stamp_reasons(rules, stamp, metal, fineness)
    return reasons


def _stamp_reasons(rules: RuleSet, stamp: str, metal: str, fineness: Decimal) -> list[Reason]:
    """A stamp that promises more than was measured misleads the buyer: it fails the item.

    Each metal of a two-tone piece carries its own mark; only the marks of the measured metal
    are held to the measurement, and a stamp that names none of it fails.
    """
    normalised = re.sub(r"[\s:：]", "", stamp).upper()
    reasons = [
        # The rules' notes are data in both languages, as the rule set is versioned.
        Reason("stamp_withdrawn_designation", note["note_zh"], note["note_en"], False)
        for note in rules.raw.get("stamp_notes", [])
        if note["pattern"] in normalised
    ]
    marks = [
        (mark, mark_metal, Decimal(minimum))
        for mark, (mark_metal, minimum) in rules.raw.get("stamp_grades", {}).items()
        # "G999" must not match inside "AG999": a Latin mark starts a token.
        if re.search(rf"(?<![A-Z]){re.escape(mark)}(?![0-9])", normalised)
    ]
    own = [(mark, minimum) for mark, mark_metal, minimum in marks if mark_metal == metal]
    if marks and not own:
        others = "、".join(mark for mark, _, _ in marks)
        return [
            *reasons,
            Reason.said(
                "stamp_overstates",
                msg(
                    "印记「{stamp}」标称{others}，实测主要成分为{metal_zh}",
                    stamp=stamp,
                    others=others,
                    metal_zh=rules.metals[metal]["name_zh"],
                    metal=metal,
                ),
                True,
            ),
        ]
    for mark, minimum in own:
        if fineness < minimum:
            reasons.append(
                Reason.said(
                    "stamp_overstates",
                    msg(
                        "印记「{stamp}」标称 {mark}（≥{minimum}‰），实测 {fineness}‰",
                        stamp=stamp,
                        mark=mark,
                        minimum=minimum,
                        fineness=fineness,
                    ),
                    True,
                )
            )
            break
    return reasons


# gems, jade, organic, imitations


def _refused(field: str, message: Message) -> ValidationFailed:
    """A reading the rules cannot name, told next to the field the analyst should look at."""
    return ValidationFailed(message, fields={field: message})


def _gem_outcome(rules: RuleSet, family: str, m: Measurements) -> Outcome:
    growth = str(m.get("growth", "natural"))
    species = _identify(rules, family, m, growth)
    spec = rules.species[species]
    mods: set[str] = set()
    notes: list[Reason] = []
    if growth in SYNTHETIC_GROWTH:
        if "synthetic_name_zh" not in spec:
            raise _refused(
                "growth",
                msg(
                    "{name_zh}没有合成品定名，请复核成因（growth）",
                    name_zh=spec["name_zh"],
                    name_en=spec["name_en"],
                ),
            )
        mods.add("synthetic")
    if m.get("reconstructed") is True:
        if not spec.get("reconstructable"):
            raise _refused(
                "reconstructed",
                msg("「再造」不适用于{name_zh}", name_zh=spec["name_zh"], name_en=spec["name_en"]),
            )
        mods.add("reconstructed")
    methods = [
        (field["method_zh"], field["method_en"])
        for key, field in rules.fields(family).items()
        if field["type"] == "bool" and "method_zh" in field and m.get(key) is True
    ]
    if methods:
        zh = "、".join(dict.fromkeys(z for z, _ in methods))
        en = ", ".join(dict.fromkeys(e for _, e in methods))
        # GB/T 16552: treatments of natural stones are named; those of synthetic, artificial
        # and imitation material need not be, so they are recorded and the name stays.
        if spec["class"] in NATURAL_CLASSES and "synthetic" not in mods:
            mods.add("treated")
            notes.append(Reason.said("treatment_found", msg("处理方法：{zh}", zh=zh, en=en), False))
        else:
            notes.append(
                Reason.said(
                    "treatment_of_imitation",
                    msg("检测到{zh}（人工或仿制材料，不改变定名）", zh=zh, en=en),
                    False,
                )
            )
    name_zh, name_en = _name(rules, species, frozenset(mods))
    code = "_".join([species.upper(), *(mod.upper() for mod in sorted(mods))])
    return Outcome(code, name_zh, name_en, species, "+".join(sorted(mods)) or PLAIN, tuple(notes))


def _name(rules: RuleSet, species: str, mods: frozenset[str]) -> tuple[str, str]:
    spec, naming = rules.species[species], rules.raw["naming"]
    if "synthetic" in mods:
        zh, en = spec["synthetic_name_zh"], spec["synthetic_name_en"]
    else:
        zh, en = spec["name_zh"], spec["name_en"]
    if "reconstructed" in mods:
        zh = naming["reconstructed_prefix_zh"] + zh
        en = naming["reconstructed_prefix_en"] + en.lower()
    if "treated" in mods:
        zh += naming["treated_suffix_zh"]
        en += naming["treated_suffix_en"]
    return zh, en


def _identify(rules: RuleSet, family: str, m: Measurements, growth: str) -> str:
    """The analyst's identification, checked against the constants; else the only fit."""
    choices = rules.fields(family)["species"]["choices"]
    given = m.get("species")
    if growth in ("natural", *SYNTHETIC_GROWTH) and family == "diamond":
        if given not in (None, "diamond"):
            raise _refused(
                "species",
                msg(
                    "成因为 {growth} 时品种只能是钻石；仿钻请选 simulant",
                    growth=growth,
                    given_en=given,
                ),
            )
        given = "diamond"
    if given == "diamond" and growth == "simulant":
        raise _refused("species", msg("成因为仿钻（simulant）时品种不能是钻石"))
    treated = any(
        m.get(key) is True
        for key, field in rules.fields(family).items()
        if field["type"] == "bool" and key != "reconstructed"
    )
    if isinstance(given, str):
        misfits = _misfits(rules.species[given], m, treated)
        if misfits:
            spec = rules.species[given]
            raise _refused(
                "species",
                msg(
                    "测量值与{name_zh}不符：{misfits}。请复核读数或鉴定品种",
                    name_zh=spec["name_zh"],
                    name_en=spec["name_en"],
                    misfits=tuple(misfits),
                ),
            )
        return given
    if "ri" not in m and "sg" not in m:
        raise _refused(
            "species",
            msg("请选择鉴定品种，或填写折射率 / 相对密度以便定名"),
        )
    pool = [c for c in choices if not (family == "diamond" and c == "diamond")]
    fits = [
        c
        for c in pool
        if _has_constants(rules.species[c]) and not _misfits(rules.species[c], m, treated)
    ]
    if len(fits) == 1:
        return str(fits[0])
    if not fits:
        raise _refused(
            "species",
            msg("没有符合这些测量值的品种：请复核读数，或选择鉴定品种"),
        )
    names_zh = "、".join(rules.species[c]["name_zh"] for c in fits)
    names_en = ", ".join(rules.species[c]["name_en"] for c in fits)
    raise _refused(
        "species",
        msg(
            "测量值同时符合{names_zh}：请选择鉴定品种（species）",
            names_zh=names_zh,
            names_en=names_en,
        ),
    )


def _has_constants(spec: Mapping[str, Any]) -> bool:
    return "ri" in spec and "sg" in spec


def _misfits(spec: Mapping[str, Any], m: Measurements, treated: bool) -> list[Message]:
    """Readings outside the species' constants, each explained."""
    out: list[Message] = []
    # A coating film is what the refractometer touches (翡翠覆膜 reads ≈1.53).
    ri_range = (
        spec.get("ri_coated")
        if m.get("coating") is True and "ri_coated" in spec
        else spec.get("ri")
    )
    sg_range = spec.get("sg_treated") if treated and "sg_treated" in spec else spec.get("sg")
    readings = (
        ("ri", "折射率", ri_range),
        ("ri_high", "折射率（高值）", ri_range),
        ("sg", "相对密度", sg_range),
    )
    for key, label_zh, bounds in readings:
        value = m.get(key)
        if value is None or bounds is None:
            continue
        low, high = Decimal(bounds[0]), Decimal(bounds[1])
        if not low <= Decimal(str(value)) <= high:
            out.append(
                msg(
                    "{label_zh} {value} 不在 {low}–{high}",
                    label_zh=label_zh,
                    key=key,
                    value=value,
                    low=low,
                    high=high,
                )
            )
    optic = m.get("optic")
    if optic is not None and optic != spec["optic"]:
        out.append(msg("偏光镜 {optic}，应为 {expected}", optic=optic, expected=spec["optic"]))
    return out


def _material_reasons(declared: Mapping[str, Any], outcome: Outcome) -> list[Reason]:
    accepts: Mapping[str, list[str]] = declared["accepts"]
    if outcome.species is None or outcome.species not in accepts:
        return [
            Reason.said(
                "material_mismatch",
                msg(
                    "检测为{named_zh}，与申报的{declared_zh}不符",
                    named_zh=outcome.name_zh,
                    named_en=outcome.name_en,
                    declared_zh=declared["name_zh"],
                    declared_en=declared["name_en"],
                ),
                True,
            )
        ]
    kinds = accepts[outcome.species]
    if outcome.kind not in kinds:
        allowed = {mod for kind in kinds for mod in kind.split("+")}
        undeclared = [mod for mod in outcome.kind.split("+") if mod not in allowed | {PLAIN}]
        return [
            Reason.said(
                f"{undeclared[0]}_not_declared" if undeclared else "material_mismatch",
                msg(
                    "检测为{named_zh}，申报为{declared_zh}：材质不符",
                    named_zh=outcome.name_zh,
                    named_en=outcome.name_en,
                    declared_zh=declared["name_zh"],
                    declared_en=declared["name_en"],
                ),
                True,
            )
        ]
    return []


# shared by every family


def _brand_reasons(declared_brand: str, mark: Value | None) -> list[Reason]:
    brand = declared_brand.strip()
    if not brand:
        return []
    if mark == "differs":
        return [
            Reason.said(
                "brand_mismatch", msg("品牌标记与商品品牌「{brand}」不符", brand=brand), True
            )
        ]
    if mark == "absent":
        return [
            Reason.said(
                "brand_mark_missing",
                msg("商品标注品牌「{brand}」，实物无品牌标记", brand=brand),
                True,
            )
        ]
    if mark is None:
        return [
            Reason.said(
                "brand_not_checked",
                msg("未核对品牌标记（商品品牌「{brand}」）", brand=brand),
                False,
            )
        ]
    return []


def _mass_reasons(
    rules: RuleSet, tolerance_key: str, declared: Decimal, measured: Decimal
) -> list[Reason]:
    """Lighter than declared beyond the balance tolerance fails; heavier is only recorded."""
    tolerances = rules.raw["mass_tolerance"]
    spec = tolerances.get(tolerance_key) or tolerances["default"]
    tolerance = Decimal(spec["max_shortfall_g"])
    shortfall = declared - measured
    if shortfall > tolerance:
        return [
            Reason.said(
                "mass_short",
                msg(
                    "实测质量 {measured} g 比申报 {declared} g 轻 {shortfall} g"
                    "（允差 {tolerance} g）",
                    measured=measured,
                    declared=declared,
                    shortfall=shortfall,
                    tolerance=tolerance,
                ),
                True,
            )
        ]
    if measured > declared:
        return [
            Reason.said(
                "mass_over",
                msg(
                    "实测质量 {measured} g 高于申报 {declared} g",
                    measured=measured,
                    declared=declared,
                ),
                False,
            )
        ]
    return []


def _recorded_claims(rules: RuleSet, declared_text: str, m: Measurements) -> list[Reason]:
    """假一赔十 does not cover origin, variety or skin colour: recorded, never decisive."""
    reasons: list[Reason] = []
    for kind, spec in rules.raw.get("claim_terms", {}).items():
        found = [term for term in spec["terms"] if term in declared_text]
        measured = m.get(kind)
        if isinstance(measured, str) and measured:
            found.append(measured)
        if found:
            terms = "、".join(dict.fromkeys(found))
            reasons.append(
                Reason.said(
                    f"{kind}_recorded",
                    msg(
                        "{what_zh}「{terms}」仅记录，不在鉴定结论与假一赔十范围内",
                        what_zh=spec["label_zh"],
                        what_en=spec["label_en"],
                        terms=terms,
                    ),
                    False,
                )
            )
    return reasons
