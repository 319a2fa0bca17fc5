"""The analyst's measurement form for one material family, built from the rules data.

Pure: the view passes the rules, the language and what the analyst typed; the template only
loops over the result. Checkboxes are screening results: unticked means "tested, not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qc_app.i18n import Message, msg
from qc_app.rules.engine import RuleSet

GROUPS: dict[str, Message] = {
    "measure": msg("测量"),
    "screening": msg("处理与合成检测"),
    "notes": msg("记录"),
}


@dataclass(frozen=True)
class FieldView:
    key: str
    kind: str  # decimal | choice | bool | text
    label: str
    hint: str
    required: bool
    options: tuple[tuple[str, str], ...]
    value: Any
    max_length: int | None
    autofocus: bool = False


def group_of(spec: Mapping[str, Any]) -> str:
    if spec["type"] == "bool":
        return "screening"
    if spec["type"] == "text" or spec.get("recorded_only"):
        return "notes"
    return "measure"


def measurement_form(
    rules: RuleSet, family: str, lang: str, values: Mapping[str, Any]
) -> list[tuple[Message, list[FieldView]]]:
    """(group title, fields) in the order the analyst works: measure, screen, note. The rules'
    own labels are data in both languages, picked by `lang`."""
    zh = lang != "en"
    grouped: dict[str, list[FieldView]] = {key: [] for key in GROUPS}
    for key, spec in rules.fields(family).items():
        grouped[group_of(spec)].append(_field(rules, key, spec, zh, values.get(key)))
    first = grouped["measure"][0]
    grouped["measure"][0] = FieldView(**{**first.__dict__, "autofocus": True})
    return [(GROUPS[key], fields) for key, fields in grouped.items() if fields]


def _field(rules: RuleSet, key: str, spec: Mapping[str, Any], zh: bool, value: Any) -> FieldView:
    label = spec["label_zh"] if zh else spec["label_en"]
    hint = spec["unit"]
    if spec["type"] == "decimal":
        hint = f"{spec['min']}–{spec['max']} {spec['unit']}".strip()
    return FieldView(
        key=key,
        kind=spec["type"],
        label=label,
        hint=hint,
        required=bool(spec["required"]),
        options=tuple((c, choice_label(rules, key, spec, c, zh)) for c in spec.get("choices", ())),
        value=value,
        max_length=spec.get("max_length"),
    )


def choice_label(rules: RuleSet, key: str, spec: Mapping[str, Any], choice: str, zh: bool) -> str:
    """A choice's name in the language: species by the rules' names, others by their labels."""
    if key == "species" and choice in rules.species:
        found = rules.species[choice]
        return str(found["name_zh"] if zh else found["name_en"])
    labels = spec.get("choice_labels_zh", {})
    return str(labels.get(choice, choice)) if zh else choice


def parse_form(rules: RuleSet, family: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Form strings to the API's vocabulary: empty means not measured, a checkbox is a bool."""
    raw: dict[str, Any] = {}
    for key, spec in rules.fields(family).items():
        if spec["type"] == "bool":
            raw[key] = form.get(key) == "true"
        elif form.get(key, "").strip():
            raw[key] = form[key].strip()
    unknown = set(form) - set(raw) - set(rules.fields(family)) - {"csrf_token"}
    raw.update({key: form[key] for key in unknown if form[key].strip()})
    return raw
