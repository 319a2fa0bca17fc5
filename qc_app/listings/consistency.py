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

from qc_app.i18n import Message, msg, pmsg

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
METAL_NAMES: dict[str, Message] = {
    "Au": pmsg("metal", "金"),
    "Pt": pmsg("metal", "铂"),
    "Ag": pmsg("metal", "银"),
    "Pd": pmsg("metal", "钯"),
}


@dataclass(frozen=True)
class TitleWarning:
    kind: str  # origin | variety | skin_colour | fineness | metal
    term: str
    text: Message


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
                        # The rules' name of what the term describes is data in both languages.
                        msg(
                            "标题中的“{term}”是{what_zh}描述：证书不鉴定{what_zh}，假一赔十不保障{what_zh}",
                            term=term,
                            what_zh=spec["label_zh"],
                            what_en=spec["label_en"],
                        ),
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
    for metal, permille, label in found:
        if "metal" not in declared or declared["metal"] != metal:
            out.append(
                TitleWarning(
                    "metal",
                    label,
                    msg(
                        "标题写“{label}”（{metal}），但申报材质是{name_zh}：证书只会写{name_zh}",
                        label=label,
                        metal=METAL_NAMES[metal],
                        name_zh=declared["name_zh"],
                        name_en=declared["name_en"],
                    ),
                )
            )
        elif permille > Decimal(declared["min_permille"]):
            out.append(
                TitleWarning(
                    "fineness",
                    label,
                    msg(
                        "标题写“{label}”（≥{permille}‰），申报为{name_zh}（≥{declared}‰）："
                        "证书按{name_zh}出具，标题承诺了更高的成色",
                        label=label,
                        permille=permille,
                        declared=declared["min_permille"],
                        name_zh=declared["name_zh"],
                        name_en=declared["name_en"],
                    ),
                )
            )
    return out


# What the programme covers and does not, shown next to every listing.
COVERS = (pmsg("coverage", "品牌"), pmsg("coverage", "材质"))
EXCLUDES = (
    pmsg("coverage", "重量"),
    pmsg("coverage", "产地"),
    pmsg("coverage", "品种"),
    pmsg("coverage", "皮色"),
)
