"""The analyst's measurement form for one material family, or for a set piece (the piece's
own fields, then one section per declared component), built from the rules data.

Pure: the view passes the rules, the language and what the analyst typed; the template only
loops over the result. Checkboxes are screening results: unticked means "tested, not found".
A set piece's component fields are named `c<index>-<key>` (c1-metal, c2-species …); a bead
string's groups of beads not as declared `c<index>-g<n>-<key>`, with `c<index>-groups` saying
how many groups the form shows (the 添加一组 button adds one, with or without script).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qc_app.i18n import Message, msg, verbatim
from qc_app.rules import pieces
from qc_app.rules.engine import RuleSet

GROUPS: dict[str, Message] = {
    "measure": msg("测量"),
    "screening": msg("处理与合成检测"),
    "notes": msg("记录"),
}


@dataclass(frozen=True)
class FieldView:
    key: str  # the form field's name and id (a component's carries its prefix)
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


Groups = list[tuple[Message, list[FieldView]]]


@dataclass(frozen=True)
class Section:
    """One part of a set piece's form: the whole piece, or one declared component."""

    title: Message
    groups: Groups
    strung: int | None = None  # a bead string's component index: it may add a group
    shown: int = 0  # how many groups of beads not as declared the section shows


def measurement_form(rules: RuleSet, family: str, lang: str, values: Mapping[str, Any]) -> Groups:
    """(group title, fields) in the order the analyst works: measure, screen, note. The rules'
    own labels are data in both languages, picked by `lang`."""
    return _groups(rules, rules.fields(family), lang, values, prefix="", autofocus=True)


def _groups(
    rules: RuleSet,
    specs: Mapping[str, Mapping[str, Any]],
    lang: str,
    values: Mapping[str, Any],
    *,
    prefix: str,
    autofocus: bool,
) -> Groups:
    zh = lang != "en"
    grouped: dict[str, list[FieldView]] = {key: [] for key in GROUPS}
    for key, spec in specs.items():
        field = _field(rules, key, spec, zh, values.get(prefix + key))
        grouped[group_of(spec)].append(FieldView(**{**field.__dict__, "key": prefix + key}))
    if autofocus:
        first = grouped["measure"][0]
        grouped["measure"][0] = FieldView(**{**first.__dict__, "autofocus": True})
    return [(GROUPS[key], fields) for key, fields in grouped.items() if fields]


def piece_form(
    rules: RuleSet,
    declared: Sequence[Mapping[str, str]],
    lang: str,
    values: Mapping[str, Any],
    add_group: int | None = None,
) -> list[Section]:
    """A set piece: the whole piece first (the total mass from the balance, brand mark,
    observations), then one section per declared component (its family's fields: a metal's
    XRF and stamp, a stone's identification, a diamond's grading; a bead string's groups of
    beads not as declared, one more for the component `add_group`); `values` is what was
    typed, by field name."""
    whole = _groups(
        rules, pieces.piece_fields(rules), lang, values, prefix="", autofocus=add_group is None
    )
    sections = [Section(msg("整件"), whole)]
    for index, part in enumerate(declared, start=1):
        name = rules.declaration(part["material"])
        said = " ".join(_declared_text(part))
        title = msg(
            "组成部分 {index}：{name}",
            index=index,
            name=verbatim(f"{name['name_zh'] if lang != 'en' else name['name_en']} {said}".strip()),
        )
        specs = pieces.part_fields(rules, part["material"])
        groups = _groups(
            rules, specs, lang, values, prefix=pieces.part_prefix(index), autofocus=False
        )
        if not pieces.is_bead_string(part):
            sections.append(Section(title, groups))
            continue
        shown = groups_shown(index, values) + (1 if add_group == index else 0)
        for n in range(1, shown + 1):
            fields = _groups(
                rules,
                pieces.group_fields(rules, part["material"]),
                lang,
                values,
                prefix=pieces.group_prefix(index, n),
                autofocus=add_group == index and n == shown,  # the group just added
            )
            groups.append((msg("不符的珠子 第 {n} 组", n=n), [f for _, fs in fields for f in fs]))
        sections.append(Section(title, groups, strung=index, shown=shown))
    return sections


def groups_shown(index: int, values: Mapping[str, Any]) -> int:
    """How many groups of beads not as declared a component's form shows: as it said."""
    said = str(values.get(f"{pieces.part_prefix(index)}groups", "")).strip()
    return min(int(said), 20) if said.isdigit() else 0


def _declared_text(part: Mapping[str, str]) -> list[str]:
    """A component's declaration as the trade writes it: 18K, ×2, 0.30 ct, 8.0 mm."""
    units = {"count": "×{}", "carat": "{} ct", "bead_diameter_mm": "{} mm"}
    return [
        units.get(key, "{}").format(value)
        for key, value in part.items()
        if key != "material" and not (key == "count" and str(value) == "1")
    ]


def parse_piece_form(
    rules: RuleSet, declared: Sequence[Mapping[str, str]], form: Mapping[str, str]
) -> dict[str, Any]:
    """The set-piece form to the API's body: the piece's fields and `components`, one object
    per declared component, as `pieces.validate_piece` reads them."""
    raw = _parsed(pieces.piece_fields(rules), form, prefix="")
    raw["components"] = []
    for index, part in enumerate(declared, start=1):
        values = _parsed(
            pieces.part_fields(rules, part["material"]), form, prefix=pieces.part_prefix(index)
        )
        if pieces.is_bead_string(part):
            specs = pieces.group_fields(rules, part["material"])
            found = [
                _parsed(specs, form, prefix=pieces.group_prefix(index, n))
                for n in range(1, groups_shown(index, form) + 1)
            ]
            # A group left empty (added, then not needed) is no group.
            listed = [g for g in found if any(v is not False for v in g.values())]
            if listed:
                values[pieces.GROUPS] = listed
        raw["components"].append(values)
    return raw


def _parsed(
    specs: Mapping[str, Mapping[str, Any]], form: Mapping[str, str], *, prefix: str
) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key, spec in specs.items():
        if spec["type"] == "bool":
            raw[key] = form.get(prefix + key) == "true"
        elif form.get(prefix + key, "").strip():
            raw[key] = form[prefix + key].strip()
    return raw


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
    raw = _parsed(rules.fields(family), form, prefix="")
    unknown = set(form) - set(raw) - set(rules.fields(family)) - {"csrf_token"}
    raw.update({key: form[key] for key in unknown if form[key].strip()})
    return raw
