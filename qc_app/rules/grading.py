"""Diamond grading under GB/T 16554-2017: colour, clarity, cut, fluorescence and carat.

Pure functions over the rules data (`diamond_grading` in rules-<version>.json). Only natural,
untreated diamonds are graded: lab-grown stones are outside the standard and are refused, with
the name they must carry (合成钻石, alias 培育钻石), and so is any stone outside its mass range
(loose ≥ 0.20 ct; set 0.20–1.00 ct).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from typing_extensions import TypedDict

from qc_app.errors import ValidationFailed
from qc_app.i18n import Message, msg

GRADING_KEYS = ("colour_grade", "clarity_grade", "cut_grade")
CENT = Decimal("0.01")


class GradingRecord(TypedDict):
    """A grading as stored with its inspection, signed and printed: every value a string."""

    standard: str
    carat: str
    colour: str
    colour_scale: str
    clarity: str
    cut: str
    fluorescence: str
    mounted: str  # "yes": set stone, graded in the coarser groups


# A grading's cut and fluorescence are stored as the field's choice keys; pages say them so.
CUT_LABELS: dict[str, Message] = {
    "excellent": msg("极好 EX"),
    "very_good": msg("很好 VG"),
    "good": msg("好 G"),
    "fair": msg("一般 F"),
    "poor": msg("差 P"),
}
FLUORESCENCE_LABELS: dict[str, Message] = {
    "none": msg("无荧光"),
    "weak": msg("弱"),
    "medium": msg("中"),
    "strong": msg("强"),
}


def carat_of(grams: Decimal) -> Decimal:
    """Carat to two decimals from a four-decimal gram reading, 逢九进一: the third decimal is
    dropped unless it is 9, then the second decimal rounds up (0.0598 g = 0.299 ct → 0.30)."""
    carat = grams * 5
    thousandths = int((carat * 1000).to_integral_value(rounding=ROUND_DOWN))
    kept = carat.quantize(CENT, rounding=ROUND_DOWN)
    return kept + CENT if thousandths % 10 == 9 else kept


def requested(m: Mapping[str, Any]) -> bool:
    return any(key in m for key in GRADING_KEYS)


def grade(
    data: Mapping[str, Any],
    *,
    species: str | None,
    kind: str,
    m: Mapping[str, Any],
    carat: Decimal | None,
    mounted: bool,
) -> GradingRecord:
    """The grading of one diamond, or ValidationFailed saying why it cannot be graded."""
    if species != "diamond":
        raise ValidationFailed(msg("只有钻石可按 GB/T 16554 分级"))
    if "synthetic" in kind:
        raise ValidationFailed(
            msg(
                "合成钻石（{alias}）不在 GB/T 16554 分级范围内，不予分级",
                alias=data["lab_grown_alias_zh"],
            )
        )
    if kind != "plain":
        raise ValidationFailed(msg("经处理的钻石不在 GB/T 16554 分级范围内，不予分级"))
    if "colour_grade" not in m or "clarity_grade" not in m:
        raise ValidationFailed(msg("钻石分级须同时给出颜色级别与净度级别"))
    if carat is None:
        raise ValidationFailed(msg("钻石分级须有称重质量（diamond_mass_g，四位小数）或估算克拉"))
    low = Decimal(data["set_range_ct"][0] if mounted else data["loose_min_ct"])
    high = Decimal(data["set_range_ct"][1]) if mounted else None
    if carat < low or (high is not None and carat > high):
        raise ValidationFailed(
            msg(
                "{carat} ct 不在 GB/T 16554 分级范围内（{scope}）",
                carat=carat,
                scope=f"{low}–{high} ct" if high is not None else f"≥ {low} ct",
            )
        )
    cut = m.get("cut_grade")
    if cut is not None and m.get("round_brilliant") is not True:
        raise ValidationFailed(msg("切工级别只适用于标准圆钻型（round_brilliant）"))
    colour, clarity = str(m["colour_grade"]), str(m["clarity_grade"])
    if mounted:
        colour_shown = data["set_colour_groups"][colour]
        clarity_shown = data["set_clarity_groups"][clarity]
    else:
        colour_shown = colour
        clarity_shown = f"LC（{clarity}）" if clarity in data["clarity_lc"] else clarity
    return {
        "standard": str(data["standard"]),
        "carat": str(carat),
        "colour": colour_shown,
        "colour_scale": str(data["colour_scale"][colour]),
        "clarity": clarity_shown,
        "cut": str(cut or ""),
        "fluorescence": str(m.get("uv_fluorescence") or ""),
        "mounted": "yes" if mounted else "no",
    }
