"""How measured properties are named on a certificate: a vocabulary kept as data
(`certificates/properties.json`), applied to whatever keys an inspection recorded.

Material families add measurement keys over time; a key the vocabulary does not know yet is
named by the inspection's rule set (label, 检出/未检出, choice names), and printed under its own
name only when neither knows it, rather than failing the issue. Shape and colour are always shown
(GB/T 16553 lists them on every identification certificate), as "—" when not recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qc_app.i18n import pmsg
from qc_app.items import proof
from qc_app.rules.grading import GradingRecord

VOCABULARY_FILE = "properties.json"
ABSENT = "—"
ALWAYS_SHOWN = ("mass_g", "shape", "colour")
# Printed elsewhere on the page: remarks under the results, mass in its own row.
SEPARATE = frozenset({"observations"})


@dataclass(frozen=True)
class PropertyRow:
    label_zh: str
    label_en: str
    value: str  # with its unit, or the Chinese value name
    value_en: str = ""  # English value name for enumerated values


@dataclass(frozen=True)
class Vocabulary:
    order: tuple[str, ...]
    properties: Mapping[str, Mapping[str, Any]]

    def row(
        self, key: str, value: object, rule_fields: Mapping[str, Mapping[str, Any]] | None = None
    ) -> PropertyRow:
        spec = self.properties.get(key)
        if spec is None:
            return _rule_row(key, value, (rule_fields or {}).get(key))
        if value is None or value == "":
            return PropertyRow(spec["zh"], spec["en"], ABSENT)
        names = spec.get("values", {})
        named = names.get(value_text(value)) or names.get(value_text(value).lower())
        if named is not None:
            return PropertyRow(spec["zh"], spec["en"], named["zh"], named["en"])
        unit = spec.get("unit", "")
        return PropertyRow(spec["zh"], spec["en"], f"{value_text(value)} {unit}".strip())

    def rows(
        self,
        measured: Mapping[str, object],
        rule_fields: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> tuple[PropertyRow, ...]:
        """Known keys in the vocabulary's order, then the others alphabetically, named by the
        inspection's rule set (`rule_fields`: RuleSet.fields(family)) where it knows them."""
        keys = [k for k in self.order if k in measured or k in ALWAYS_SHOWN]
        keys += sorted(k for k in measured if k not in self.order and k not in SEPARATE)
        return tuple(self.row(key, measured.get(key), rule_fields) for key in keys)


def _rule_row(key: str, value: object, spec: Mapping[str, Any] | None) -> PropertyRow:
    """A key the vocabulary does not know: its rules label, else printed under its own name."""
    text = value_text(value)
    if spec is None:
        return PropertyRow(key, key, text)
    zh, en = spec.get("label_zh", key), spec.get("label_en", key)
    if value is None or value == "":
        return PropertyRow(zh, en, ABSENT)
    if spec.get("type") == "bool":
        found = text.lower() == "true"
        shown = pmsg("certificate", "检出") if found else pmsg("certificate", "未检出")
        return PropertyRow(zh, en, shown.render("zh"), shown.render("en"))
    named = spec.get("choice_labels_zh", {}).get(text)
    if named is not None:
        return PropertyRow(zh, en, named, text.replace("_", " "))
    return PropertyRow(zh, en, f"{text} {spec.get('unit', '')}".strip())


def value_text(value: object) -> str:
    """A measured value as signed and printed: JSON true/false, not Python's True/False."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache
def load_vocabulary(certificates_dir: Path) -> Vocabulary:
    data = json.loads((certificates_dir / VOCABULARY_FILE).read_text(encoding="utf-8"))
    return Vocabulary(order=tuple(data["order"]), properties=data["properties"])


def part_rows(parts: Sequence[Mapping[str, Any]]) -> tuple[PropertyRow, ...]:
    """A set piece: one row per component, its name, count and result."""
    rows = []
    for part in parts:
        label = pmsg("certificate", "组成部分 {index}", index=part["index"])
        result = (
            pmsg("certificate", "与申报一致")
            if part["verdict"] == "pass"
            else pmsg("certificate", "与申报不符")
        )
        count = part["declared"].get("count")
        times = f" ×{count}" if count and count != "1" else ""
        rows.append(
            PropertyRow(
                label.render("zh"),
                label.render("en"),
                f"{part['name_zh']}{times}：{result.render('zh')}",
                f"{part['name_en']}{times}: {result.render('en')}",
            )
        )
        for group in part.get("beads_not_as_declared") or ():
            beads = pmsg("certificate", "组成部分 {index} 不符的珠子", index=part["index"])
            said = pmsg(
                "certificate",
                "{count} 颗为{name_zh}",
                count=group["count"],
                name_zh=group["name_zh"],
                name_en=group["name_en"],
            )
            rows.append(
                PropertyRow(
                    beads.render("zh"), beads.render("en"), said.render("zh"), said.render("en")
                )
            )
        if part.get("grading"):
            rows += grading_rows(part["grading"])
    return tuple(rows)


def dimension_rows(dimensions: Mapping[str, str] | None) -> tuple[PropertyRow, ...]:
    """The dimensions that identify the piece, measured at intake (items/data/proof.json)."""
    rows = []
    for key, value in (dimensions or {}).items():
        dim = proof.dimension(key)
        shown = f"{value} {dim.unit}".strip()
        rows.append(PropertyRow(dim.zh, dim.en, shown))
    return tuple(rows)


def grading_rows(grading: GradingRecord | None) -> tuple[PropertyRow, ...]:
    """GB/T 16554 diamond grading: carat, colour (letter and 100–90 scale), clarity, then cut
    and fluorescence when graded."""
    if not grading:
        return ()
    label = pmsg("certificate", "钻石分级（{standard}）", standard=grading["standard"])
    said = [
        pmsg(
            "certificate",
            "{carat} ct，颜色 {colour}（{scale}），净度 {clarity}",
            carat=grading["carat"],
            colour=grading["colour"],
            scale=grading["colour_scale"],
            clarity=grading["clarity"],
        )
    ]
    if grading.get("cut"):
        said.append(
            pmsg("certificate", "切工 {cut}", cut=CUT_NAMES.get(grading["cut"], grading["cut"]))
        )
    if grading.get("fluorescence"):
        said.append(
            pmsg("certificate", "荧光 {fluorescence}", fluorescence=grading["fluorescence"])
        )
    return (
        PropertyRow(
            label.render("zh"),
            label.render("en"),
            "，".join(m.render("zh") for m in said),
            ", ".join(m.render("en") for m in said),
        ),
    )


CUT_NAMES = {"excellent": "EX", "very_good": "VG", "good": "G", "fair": "F", "poor": "P"}
