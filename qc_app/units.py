"""Exact measurement units: Decimal in the domain, integer minor units in the database.

Mass is stored in centigrams (10.02 g -> 1002), fineness in tenths of per mille
(999.2‰ -> 9992), money in fen. Floats are refused so that no rounding ever enters signed data.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from qc_app.errors import ValidationFailed

CENTI = Decimal("0.01")
DECI = Decimal("0.1")
THOUSANDTH = Decimal("0.001")


def to_decimal(value: object, *, field: str, places: Decimal) -> Decimal:
    """Parse a JSON number or string exactly; refuse more decimals than the unit allows."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(f"{field} 必须是数字", f"{field} must be a number")
    try:
        # str() of a float JSON number gives its shortest repr, which is what the caller typed.
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(f"{field} 必须是数字", f"{field} must be a number") from exc
    if not number.is_finite():
        raise ValidationFailed(f"{field} 必须是数字", f"{field} must be a number")
    try:
        exact = number.quantize(places, rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:  # more digits than the context holds: far out of any range
        raise ValidationFailed(f"{field} 数值过大", f"{field} is far too large") from exc
    if number != exact:
        decimals = len(str(places).partition(".")[2])
        raise ValidationFailed(
            f"{field} 最多 {decimals} 位小数", f"{field} allows at most {decimals} decimals"
        )
    return exact


def in_range(number: Decimal, low: Decimal, high: Decimal, *, field: str, unit: str) -> Decimal:
    if not low <= number <= high:
        raise ValidationFailed(
            f"{field} 超出范围（{low}–{high}{unit}）：{number}",
            f"{field} out of range ({low}–{high}{unit}): {number}",
        )
    return number


def parse_mass_g(value: object, *, field: str = "mass_g") -> Decimal:
    number = to_decimal(value, field=field, places=CENTI)
    return in_range(number, Decimal("0.01"), Decimal("100000.00"), field=field, unit=" g")


def mass_to_cg(mass_g: Decimal) -> int:
    return int(mass_g * 100)


def cg_to_mass(cg: int) -> Decimal:
    return (Decimal(cg) / 100).quantize(CENTI)


def permille_to_tenths(permille: Decimal) -> int:
    return int(permille * 10)


def tenths_to_permille(tenths: int) -> Decimal:
    return (Decimal(tenths) / 10).quantize(DECI)


def parse_price_fen(value: object, *, field: str = "price_fen") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed(f"{field} 必须是整数（分）", f"{field} must be an integer (fen)")
    try:
        fen = int(str(value).strip())
    except ValueError as exc:
        raise ValidationFailed(
            f"{field} 必须是整数（分）", f"{field} must be an integer (fen)"
        ) from exc
    if not 1 <= fen <= 10**11:
        raise ValidationFailed(f"{field} 超出范围", f"{field} out of range (1..10^11 fen)")
    return fen


def yuan_to_fen(text: str) -> str:
    """What a merchant types (yuan) as the fen string parse_price_fen takes.

    A third decimal is not rounded: the text is passed on unchanged, and parse_price_fen
    refuses it with its usual message.
    """
    try:
        fen = Decimal(text.strip()) * 100
    except (InvalidOperation, ValueError):
        return text
    return str(int(fen)) if fen.is_finite() and fen == fen.to_integral_value() else text


def format_fen(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


def clean_text(value: object, field: str, *, required: bool, max_length: int) -> str:
    """A form or JSON text field: trimmed, present when required, within its length."""
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{field}", f"{field} is required")
    if len(text) > max_length:
        raise ValidationFailed(f"{field}过长", f"{field} is too long (max {max_length})")
    return text
