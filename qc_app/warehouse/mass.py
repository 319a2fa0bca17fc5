"""Mass checks on the warehouse balance, pure: centigrams in, findings out.

A stone or a metal piece does not change mass between intake, the lab and packing. Two readings
of the same piece differ only by the balance: ±0.01 g readability on each reading, plus 0.1 %
for heavy pieces (scale linearity). Anything beyond that is a different piece or a lost part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from qc_app.i18n import Message, msg, pmsg
from qc_app.units import cg_to_mass

ABSOLUTE_CG = 2  # two readings on a 0.01 g balance
RELATIVE = Decimal("0.001")


def tolerance_cg(mass_cg: int) -> int:
    return max(ABSOLUTE_CG, int(Decimal(mass_cg) * RELATIVE))


# What an alarm of each finding's code is called in lists (the finding's message says the rest).
ALARM_LABELS: Mapping[str, Message] = {
    "mass_short": pmsg("alarm", "质量不符"),
    "mass_drift": pmsg("alarm", "质量漂移（疑似调包）"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    message: Message


def intake_finding(declared_cg: int, measured_cg: int) -> Finding | None:
    """Lighter than declared beyond the tolerance is a discrepancy; heavier is only recorded
    (DESIGN §3: the lab fails a shortfall, never an excess)."""
    shortfall = declared_cg - measured_cg
    limit = tolerance_cg(declared_cg)
    if shortfall > limit:
        return Finding(
            "mass_short",
            msg(
                "质量不符：实测 {measured_cg} g，申报 {declared_cg} g，轻 {shortfall} g（"
                "允差 {limit} g）",
                measured_cg=cg_to_mass(measured_cg),
                declared_cg=cg_to_mass(declared_cg),
                shortfall=cg_to_mass(shortfall),
                limit=cg_to_mass(limit),
            ),
        )
    return None


@dataclass(frozen=True)
class Reading:
    stage: str  # intake | lab | packing
    mass_cg: int


STAGE_ZH = {"intake": "收货", "lab": "检测", "packing": "打包"}


def drift(readings: Sequence[Reading]) -> Finding | None:
    """The spread of all readings of one piece beyond the tolerance: a swapped stone."""
    if len(readings) < 2:
        return None
    low = min(readings, key=lambda r: r.mass_cg)
    high = max(readings, key=lambda r: r.mass_cg)
    spread = high.mass_cg - low.mass_cg
    limit = tolerance_cg(low.mass_cg)
    if spread <= limit:
        return None
    listed_zh = "，".join(
        f"{STAGE_ZH.get(r.stage, r.stage)} {cg_to_mass(r.mass_cg)} g" for r in readings
    )
    listed_en = ", ".join(f"{r.stage} {cg_to_mass(r.mass_cg)} g" for r in readings)
    return Finding(
        "mass_drift",
        msg(
            "质量漂移 {spread} g（允差 {limit} g）：{listed_zh}。疑似调包，需主管处理",
            spread=cg_to_mass(spread),
            limit=cg_to_mass(limit),
            listed_zh=listed_zh,
            listed_en=listed_en,
        ),
    )
