"""Exact measurement units: Decimal in the domain, integer minor units in the database.

Mass is stored in centigrams (10.02 g -> 1002), fineness in tenths of per mille
(999.2‰ -> 9992), money in fen. Floats are refused so that no rounding ever enters signed data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from qc_app.errors import ValidationFailed
from qc_app.i18n import Message, msg, pmsg, verbatim

ONE = Decimal(1)
# Each input a form, JSON body or CSV file fills in, as people call it: a refusal names the
# field this way, never by its key. (Measurements are named by the rules: RuleSet.field_label.)
FIELD_LABELS: Mapping[str, Message] = {
    "mass_g": pmsg("field", "质量"),
    "price_fen": pmsg("field", "价格"),
    "price_paid_fen": pmsg("field", "实付金额"),
    "postage_fen": pmsg("field", "邮费"),
    "yuan": pmsg("field", "金额"),
    "listing_id": pmsg("field", "商品"),
    "token_id": pmsg("field", "令牌"),
    "days": pmsg("field", "有效天数"),
    "serious_violations": pmsg("field", "严重违规次数"),
    "code": pmsg("field", "代码"),
    "cert_prefix": pmsg("field", "证书编号前缀"),
    "accredited_from": pmsg("field", "资质起始日期"),
    "accredited_until": pmsg("field", "资质有效期至"),
    "name_zh": pmsg("field", "中文名称"),
    "name_en": pmsg("field", "英文名称"),
    "cma_no": pmsg("field", "CMA 编号"),
    "cnas_no": pmsg("field", "CNAS 编号"),
    "description": pmsg("field", "情况说明"),
    "programme": pmsg("field", "保障计划"),
    "material_code": pmsg("field", "申报材质"),
    "title": pmsg("field", "商品标题"),
    "brand": pmsg("field", "品牌"),
    "style": pmsg("field", "款式"),
    "reason": pmsg("field", "原因"),
}


def field_label(field: str | Message) -> Message:
    """An input's name in words: its FIELD_LABELS entry, or the Message the caller gave."""
    if isinstance(field, Message):
        return field
    return FIELD_LABELS.get(field) or verbatim(field)


CENTI = Decimal("0.01")
DECI = Decimal("0.1")
THOUSANDTH = Decimal("0.001")
# Every number that comes in is at most this long, and below 10^(MAX_EXPONENT + 1), before any
# arithmetic sees it: Decimal("1e300000") parses in microseconds, but int() of it took seconds
# (a bigger exponent killed the worker). The largest value any field allows is 10^11 fen.
MAX_NUMBER_CHARS = 32
MAX_EXPONENT = 20


def to_decimal(value: object, *, field: str | Message, places: Decimal) -> Decimal:
    """The one parser of every number that comes in (forms, JSON, CSV): a JSON number or a
    string, exact, with at most the decimals of `places`. Over-long text and huge exponents
    are refused before any arithmetic."""
    not_a_number = ValidationFailed(msg("{field} 必须是数字", field=field_label(field)))
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise not_a_number
    if isinstance(value, int) and abs(value) >= 10 ** (MAX_EXPONENT + 1):
        raise _far_too_large(field)  # before str(): a 5000-digit int does not even print
    text = str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise ValidationFailed(msg("{field} 过长", field=field_label(field)))
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


def _far_too_large(field: str | Message) -> ValidationFailed:
    return ValidationFailed(msg("{field} 数值过大", field=field_label(field)))


def _too_precise(field: str | Message, places: Decimal) -> ValidationFailed:
    if places == ONE:
        return ValidationFailed(msg("{field} 须为整数", field=field_label(field)))
    decimals = len(str(places).partition(".")[2])
    return ValidationFailed(
        msg("{field} 最多 {decimals} 位小数", field=field_label(field), decimals=decimals)
    )


def parse_int(value: object, *, field: str | Message, low: int, high: int, unit: str = "") -> int:
    """A whole number (an id, fen, a count) from a JSON number or a string, within its range."""
    number = to_decimal(value, field=field, places=ONE)
    return int(in_range(number, Decimal(low), Decimal(high), field=field, unit=unit))


def in_range(
    number: Decimal, low: Decimal, high: Decimal, *, field: str | Message, unit: str
) -> Decimal:
    if not low <= number <= high:
        raise ValidationFailed(
            msg(
                "{field} 超出范围（{low}–{high}{unit}）：{number}",
                field=field_label(field),
                low=low,
                high=high,
                unit=unit,
                number=number,
            ),
        )
    return number


def parse_mass_g(value: object, *, field: str | Message = "mass_g") -> Decimal:
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


def parse_price_fen(value: object, *, field: str | Message = "price_fen") -> int:
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


def local_time(moment: datetime, zone: tzinfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (UTC; a naive one is read as UTC) as people read it: in their zone
    (Config.TIMEZONE). The one formatter of every time a page, certificate or label shows."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime(pattern)


def local_day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC moment a calendar day begins in `zone`: a date people pick (a list's from / to)
    as the bound stored times are compared with."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def format_fen(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"


def clean_text(value: object, field: str | Message, *, required: bool, max_length: int) -> str:
    """A form or JSON text field: trimmed, present when required, within its length."""
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(msg("请填写{field}", field=field_label(field)))
    if len(text) > max_length:
        raise ValidationFailed(
            msg("{field}过长", field=field_label(field), max_length_en=max_length)
        )
    return text
