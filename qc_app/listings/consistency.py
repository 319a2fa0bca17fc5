"""The listing consistency check: does the title promise what the certificates cannot?

A certificate names the material (and brand marks); 假一赔十 covers brand and material fakes.
Origin, variety and skin colour are recorded but never judged (rules data: `claim_terms`), and a
fineness word above the declared grade (足金 on an 18K listing, 千足 / 999 on a 足金 listing)
promises more than the lab will confirm. Pure: title, material code and the rule set in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Fineness words a title may use, longest first so 千足金 is not read as 足金.
# (pattern, metal, per-mille the word promises, label)
FINENESS_WORDS: tuple[tuple[str, str, Decimal, str], ...] = (
    (r"万足金|9999", "Au", Decimal("999.9"), "万足金/9999"),
    (r"千足金|千足|(?<!\d)999(?!\d)|24K", "Au", Decimal("999"), "千足/999"),
    (r"足金|(?<!\d)990(?!\d)", "Au", Decimal("990"), "足金"),
    (r"22K", "Au", Decimal("916"), "22K"),
    (r"18K|K金", "Au", Decimal("750"), "18K"),
    (r"14K", "Au", Decimal("585"), "14K"),
    (r"足铂|铂990|PT990", "Pt", Decimal("990"), "足铂"),
    (r"铂950|PT950", "Pt", Decimal("950"), "铂950"),
    (r"足银|S990", "Ag", Decimal("990"), "足银"),
    (r"(?<!\d)925(?!\d)|S925", "Ag", Decimal("925"), "925银"),
)
METAL_NAMES = {
    "Au": ("金", "gold"),
    "Pt": ("铂", "platinum"),
    "Ag": ("银", "silver"),
    "Pd": ("钯", "palladium"),
}


@dataclass(frozen=True)
class TitleWarning:
    kind: str  # origin | variety | skin_colour | fineness | metal
    term: str
    zh: str
    en: str


def check_title(title: str, material_code: str, rules: Any) -> list[TitleWarning]:
    warnings: list[TitleWarning] = []
    upper = title.upper()
    for kind, spec in rules.raw.get("claim_terms", {}).items():
        seen: set[str] = set()
        for term in sorted(spec["terms"], key=len, reverse=True):
            if term.upper() in upper and not any(term in s for s in seen):
                seen.add(term)
                warnings.append(
                    TitleWarning(
                        kind,
                        term,
                        f"标题中的“{term}”是{spec['label_zh']}描述：证书不鉴定{spec['label_zh']}，"
                        f"假一赔十不保障{spec['label_zh']}",
                        f"'{term}' in the title describes {spec['label_en']}: certificates do "
                        f"not test {spec['label_en']} and the 10x guarantee does not cover it",
                    )
                )
    warnings.extend(_fineness(upper, rules.declaration(material_code)))
    return warnings


def _fineness(upper: str, declared: Any) -> list[TitleWarning]:
    rest = upper
    found: list[tuple[str, Decimal, str]] = []
    for pattern, metal, permille, label in FINENESS_WORDS:
        if re.search(pattern, rest):
            found.append((metal, permille, label))
            rest = re.sub(pattern, " ", rest)
    out: list[TitleWarning] = []
    name = declared["name_zh"]
    for metal, permille, label in found:
        if "metal" not in declared or declared["metal"] != metal:
            zh, en = METAL_NAMES[metal]
            out.append(
                TitleWarning(
                    "metal",
                    label,
                    f"标题写“{label}”（{zh}），但申报材质是{name}：证书只会写{name}",
                    f"the title says '{label}' ({en}) but the declared material is "
                    f"{declared['name_en']}",
                )
            )
        elif permille > Decimal(declared["min_permille"]):
            out.append(
                TitleWarning(
                    "fineness",
                    label,
                    f"标题写“{label}”（≥{permille}‰），申报为{name}（≥{declared['min_permille']}‰）："
                    f"证书按{name}出具，标题承诺了更高的成色",
                    f"the title says '{label}' (≥{permille}‰) but the declaration is "
                    f"{declared['name_en']} (≥{declared['min_permille']}‰): the title promises "
                    "a higher fineness than the certificate will state",
                )
            )
    return out


# What the programme covers and does not, shown next to every listing.
COVERS = (("品牌", "brand"), ("材质", "material"))
EXCLUDES = (("重量", "weight"), ("产地", "origin"), ("品种", "variety"), ("皮色", "skin colour"))
