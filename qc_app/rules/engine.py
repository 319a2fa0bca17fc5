"""Judge an item: measurements in, the name a certificate must use and a verdict out.

The thresholds are data (rules/data/rules-<version>.json, each with its source); this module
holds only the small functions that apply them. Everything here is pure and deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from qc_app.errors import ValidationFailed
from qc_app.units import in_range, to_decimal

DATA = Path(__file__).parent / "data"
CURRENT_VERSION = "2026.11-1"

Value = Decimal | str | bool
Measurements = dict[str, Value]


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    decisive: bool  # True: this reason fails the item; False: recorded only

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "decisive": self.decisive}


@dataclass(frozen=True)
class Judgement:
    material_code: str
    name_zh: str
    name_en: str
    verdict: str  # "pass" | "fail"
    reasons: tuple[Reason, ...]
    rule_version: str


@dataclass(frozen=True)
class RuleSet:
    version: str
    declarations: Mapping[str, Mapping[str, Any]]
    families: Mapping[str, Mapping[str, Any]]
    metals: Mapping[str, Mapping[str, str]]
    mass_tolerance: Mapping[str, Mapping[str, str]]
    grades_by_metal: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(
        default_factory=dict
    )

    def declaration(self, code: str) -> Mapping[str, Any]:
        try:
            return self.declarations[code]
        except KeyError:
            raise ValidationFailed(
                f"未知的材质代码：{code}", f"unknown material code: {code}"
            ) from None

    def family_of(self, code: str) -> str:
        return str(self.declaration(code)["family"])

    def fields(self, family: str) -> Mapping[str, Mapping[str, Any]]:
        return self.families[family]["fields"]  # type: ignore[no-any-return]


@cache
def load_ruleset(version: str = CURRENT_VERSION) -> RuleSet:
    raw = json.loads((DATA / f"rules-{version}.json").read_text(encoding="utf-8"))
    grades: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for code, spec in raw["declarations"].items():
        if spec["family"] == "precious_metal":
            grades.setdefault(spec["metal"], []).append((code, spec))
    ordered = {
        metal: tuple(sorted(items, key=lambda cs: Decimal(cs[1]["min_permille"]), reverse=True))
        for metal, items in grades.items()
    }
    return RuleSet(
        version=raw["version"],
        declarations=raw["declarations"],
        families=raw["families"],
        metals=raw["metals"],
        mass_tolerance=raw["mass_tolerance"],
        grades_by_metal=ordered,
    )


def validate(rules: RuleSet, family: str, raw: Mapping[str, Any]) -> Measurements:
    """Parse a measurement form or JSON body: exact decimals, in range, no unknown keys."""
    fields = rules.fields(family)
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValidationFailed(
            f"未知的测量项：{', '.join(unknown)}", f"unknown measurement keys: {', '.join(unknown)}"
        )
    parsed: Measurements = {}
    for key, spec in fields.items():
        value = raw.get(key)
        if value is None or value == "":
            if spec["required"]:
                raise ValidationFailed(
                    f"缺少测量项：{spec['label_zh']}（{key}）", f"missing measurement: {key}"
                )
            continue
        parsed[key] = _parse_field(key, spec, value)
    return parsed


def _parse_field(key: str, spec: Mapping[str, Any], value: Any) -> Value:
    kind = spec["type"]
    if kind == "decimal":
        number = to_decimal(value, field=key, places=Decimal(spec["places"]))
        return in_range(
            number, Decimal(spec["min"]), Decimal(spec["max"]), field=key, unit=spec["unit"]
        )
    if kind == "choice":
        if value not in spec["choices"]:
            allowed = " ".join(spec["choices"])
            raise ValidationFailed(f"{key} 须为：{allowed}", f"{key} must be one of: {allowed}")
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationFailed(f"{key} 须为 true/false", f"{key} must be true or false")
        return value
    text = str(value).strip()
    if len(text) > int(spec["max_length"]):
        raise ValidationFailed(f"{key} 过长", f"{key} is too long")
    return text


def judge(
    rules: RuleSet, *, declared_code: str, declared_mass_g: Decimal, measurements: Measurements
) -> Judgement:
    family = rules.family_of(declared_code)
    if family == "precious_metal":
        return _judge_metal(rules, declared_code, declared_mass_g, measurements)
    raise ValidationFailed(f"暂不支持的材质类别：{family}", f"unsupported family: {family}")


def _metal_grade(rules: RuleSet, metal: str, fineness: Decimal) -> tuple[str, str, str]:
    """The highest GB 11887 grade the measured fineness meets (fineness is a minimum)."""
    for code, spec in rules.grades_by_metal.get(metal, ()):
        if fineness >= Decimal(spec["min_permille"]):
            return code, spec["name_zh"], spec["name_en"]
    names = rules.metals[metal]
    return (
        f"{metal.upper()}_SUBGRADE",
        f"{names['name_zh']}合金（{fineness}‰，未达国标纯度）",
        f"{names['name_en']} alloy ({fineness}‰, below every GB 11887 grade)",
    )


def _judge_metal(
    rules: RuleSet, declared_code: str, declared_mass_g: Decimal, m: Measurements
) -> Judgement:
    declared = rules.declaration(declared_code)
    metal, fineness = str(m["metal"]), Decimal(str(m["fineness_permille"]))
    code, name_zh, name_en = _metal_grade(rules, metal, fineness)
    reasons: list[Reason] = []
    if metal != declared["metal"]:
        reasons.append(
            Reason(
                "metal_mismatch",
                f"申报为{declared['name_zh']}，检测主要元素为{rules.metals[metal]['name_zh']}",
                f"declared {declared['name_en']}, main element found is {metal}",
                True,
            )
        )
    elif fineness < Decimal(declared["min_permille"]):
        reasons.append(
            Reason(
                "fineness_below_declared",
                f"含量 {fineness}‰ 低于{declared['name_zh']}要求的 {declared['min_permille']}‰，"
                f"应定名为{name_zh}",
                f"fineness {fineness}‰ is below the {declared['min_permille']}‰ that "
                f"{declared['name_en']} requires; the correct name is {name_en}",
                True,
            )
        )
    elif code != declared_code:
        reasons.append(
            Reason(
                "fineness_above_declared",
                f"含量高于申报，按实测定名为{name_zh}",
                f"fineness above the declaration; named {name_en} as measured",
                False,
            )
        )
    reasons.extend(
        _mass_reasons(rules, declared["metal"], declared_mass_g, Decimal(str(m["mass_g"])))
    )
    verdict = "fail" if any(r.decisive for r in reasons) else "pass"
    return Judgement(code, name_zh, name_en, verdict, tuple(reasons), rules.version)


def _mass_reasons(
    rules: RuleSet, tolerance_key: str, declared: Decimal, measured: Decimal
) -> list[Reason]:
    """Lighter than declared beyond the balance tolerance fails; heavier is only recorded."""
    tolerance = Decimal(rules.mass_tolerance[tolerance_key]["max_shortfall_g"])
    shortfall = declared - measured
    if shortfall > tolerance:
        return [
            Reason(
                "mass_short",
                f"实测质量 {measured} g 比申报 {declared} g 轻 {shortfall} g（允差 {tolerance} g）",
                f"measured {measured} g is {shortfall} g lighter than the declared {declared} g "
                f"(tolerance {tolerance} g)",
                True,
            )
        ]
    if measured > declared:
        return [
            Reason(
                "mass_over",
                f"实测质量 {measured} g 高于申报 {declared} g",
                f"measured {measured} g is heavier than the declared {declared} g",
                False,
            )
        ]
    return []
