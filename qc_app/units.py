"""Exact measurement units: Decimal in the domain, integer minor units in the database.

Mass is stored in centigrams (10.02 g -> 1002), fineness in tenths of per mille
(999.2‰ -> 9992), money in fen. Floats are refused so that no rounding ever enters signed data.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg

ONE = Decimal(1)
CENTI = Decimal("0.01")
DECI = Decimal("0.1")
THOUSANDTH = Decimal("0.001")
# Every number that comes in is at most this long, and below 10^(MAX_EXPONENT + 1), before any
# arithmetic sees it: Decimal("1e300000") parses in microseconds, but int() of it took seconds
# (a bigger exponent killed the worker). The largest value any field allows is 10^11 fen.
MAX_NUMBER_CHARS = 32
MAX_EXPONENT = 20


def to_decimal(value: object, *, field: str, places: Decimal) -> Decimal:
    """The one parser of every number that comes in (forms, JSON, CSV): a JSON number or a
    string, exact, with at most the decimals of `places`. Over-long text and huge exponents
    are refused before any arithmetic."""
    not_a_number = ValidationFailed(msg("{field} 必须是数字", field=field))
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise not_a_number
    if isinstance(value, int) and abs(value) >= 10 ** (MAX_EXPONENT + 1):
        raise _far_too_large(field)  # before str(): a 5000-digit int does not even print
    text = str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise ValidationFailed(msg("{field} 过长", field=field))
    try:
        # str() of a float JSON number gives its shortest repr, which is what the caller typed.
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise not_a_number from None
    if not number.is_finite():
        raise not_a_number
    if number.is_zero():
        number = Decimal(0).quantize(places)  # 0E+999999999 is just zero
    elif abs(number.adjusted()) > MAX_EXPONENT:
        raise _far_too_large(field) if number.adjusted() > 0 else _too_precise(field, places)
    exact = number.quantize(places, rounding=ROUND_HALF_EVEN)  # within the context's 28 digits
    if number != exact:
        raise _too_precise(field, places)
    return exact


def _far_too_large(field: str) -> ValidationFailed:
    return ValidationFailed(msg("{field} 数值过大", field=field))


def _too_precise(field: str, places: Decimal) -> ValidationFailed:
    if places == ONE:
        return ValidationFailed(msg("{field} 须为整数", field=field))
    decimals = len(str(places).partition(".")[2])
    return ValidationFailed(msg("{field} 最多 {decimals} 位小数", field=field, decimals=decimals))


def parse_int(value: object, *, field: str, low: int, high: int, unit: str = "") -> int:
    """A whole number (an id, fen, a count) from a JSON number or a string, within its range."""
    number = to_decimal(value, field=field, places=ONE)
    return int(in_range(number, Decimal(low), Decimal(high), field=field, unit=unit))


def in_range(number: Decimal, low: Decimal, high: Decimal, *, field: str, unit: str) -> Decimal:
    if not low <= number <= high:
        raise ValidationFailed(
            msg(
                "{field} 超出范围（{low}–{high}{unit}）：{number}",
                field=field,
                low=low,
                high=high,
                unit=unit,
                number=number,
            ),
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
    return parse_int(value, field=field, low=1, high=10**11, unit=" fen")


def yuan_to_fen(text: str) -> str:
    """What a merchant types (yuan) as the fen string parse_price_fen takes.

    Text that is not a yuan amount (a third decimal, a word, 1e300000) is passed on unchanged:
    the fen parser refuses it with its usual message.
    """
    try:
        yuan = to_decimal(text, field="yuan", places=CENTI)
    except ValidationFailed:
        return text
    return str(int(yuan * 100))


def format_fen(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


def clean_text(value: object, field: str, *, required: bool, max_length: int) -> str:
    """A form or JSON text field: trimmed, present when required, within its length."""
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(msg("请填写{field}", field=field))
    if len(text) > max_length:
        raise ValidationFailed(msg("{field}过长", field=field, max_length_en=max_length))
    return text
