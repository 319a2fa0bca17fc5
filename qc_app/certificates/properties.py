"""How measured properties are named on a certificate: a vocabulary kept as data
(`certificates/properties.json`), applied to whatever keys an inspection recorded.

Material families add measurement keys over time; a key the vocabulary does not know yet is
printed under its own name rather than failing the issue. Shape and colour are always shown
(GB/T 16553 lists them on every identification certificate), as "—" when not recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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

    def row(self, key: str, value: object) -> PropertyRow:
        spec = self.properties.get(key)
        if spec is None:
            return PropertyRow(key, key, _text(value))
        if value is None or value == "":
            return PropertyRow(spec["zh"], spec["en"], ABSENT)
        names = spec.get("values", {})
        named = names.get(_text(value)) or names.get(_text(value).lower())
        if named is not None:
            return PropertyRow(spec["zh"], spec["en"], named["zh"], named["en"])
        unit = spec.get("unit", "")
        return PropertyRow(spec["zh"], spec["en"], f"{_text(value)} {unit}".strip())

    def rows(self, measured: Mapping[str, object]) -> tuple[PropertyRow, ...]:
        """Known keys in the vocabulary's order, then unknown keys alphabetically."""
        keys = [k for k in self.order if k in measured or k in ALWAYS_SHOWN]
        keys += sorted(k for k in measured if k not in self.order and k not in SEPARATE)
        return tuple(self.row(key, measured.get(key)) for key in keys)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache
def load_vocabulary(certificates_dir: Path) -> Vocabulary:
    data = json.loads((certificates_dir / VOCABULARY_FILE).read_text(encoding="utf-8"))
    return Vocabulary(order=tuple(data["order"]), properties=data["properties"])
