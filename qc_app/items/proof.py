"""Proof of this very piece: the photos and the dimensions taken at intake (issue 19).

Which views make a complete set and which dimensions identify each article type are data
(data/proof.json, with source and confidence); this module reads them and checks what the
inspector gave. Pure: no session, no Flask. Dimensions are kept as exact decimal strings (they
are signed).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from qc_app.errors import FieldErrors, ValidationFailed
from qc_app.i18n import Message, bilingual, msg, pmsg
from qc_app.units import in_range, to_decimal

DATA = Path(__file__).parent / "data" / "proof.json"


@dataclass(frozen=True)
class Dimension:
    key: str
    zh: str
    en: str
    unit: str
    low: Decimal
    high: Decimal
    places: Decimal

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@cache
def _data() -> Mapping[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def views() -> tuple[str, ...]:
    """Every view an intake photo can be, in the order the terminal takes them."""
    return tuple(_data()["views"]["order"])


def photo_fields() -> dict[str, str]:
    """The form and multipart field of each view: the front is `photo`, as the one photo was."""
    return {view: "photo" if view == "front" else f"photo_{view}" for view in views()}


def dimension_keys() -> tuple[str, ...]:
    return tuple(_data()["dimensions"])


VIEW_LABELS: Mapping[str, Message] = {
    "front": pmsg("view", "正面"),
    "back": pmsg("view", "背面"),
    "stamp": pmsg("view", "印记"),
    "detail": pmsg("view", "细节"),
}


def missing_views(given: Collection[str], *, metal: bool = False) -> list[Message]:
    """What a complete set still lacks: every required view, and one of `one_of`; a piece
    with precious metal needs its stamp (the fineness mark), which a detail does not replace."""
    spec = _data()["views"]
    missing = [VIEW_LABELS[v] for v in spec["required"] if v not in given]
    if metal:
        if spec["metal_requires"] not in given:
            missing.append(VIEW_LABELS[spec["metal_requires"]])
    elif not any(v in given for v in spec["one_of"]):
        first, *others = (VIEW_LABELS[v] for v in spec["one_of"])
        missing.append(msg("{first}或{others}", first=first, others=tuple(others)))
    return missing


# Why an item was received without photos: the inspector's choice, shown in words on the
# certificate and the consumer's page (codes are data: proof.json "no_photo_reasons").
NO_PHOTO_REASONS: Mapping[str, Message] = {
    "camera_fault": pmsg("no photo", "拍照设备故障"),
    "sealed_package": pmsg("no photo", "密封包装，不得拆封拍照"),
    "too_small": pmsg("no photo", "物品过小，无法拍出可辨认的照片"),
    "other": pmsg("no photo", "其他原因"),
}
NOTE_MAX = 200


def no_photo_reasons() -> tuple[str, ...]:
    return tuple(_data()["no_photo_reasons"])


def parse_no_photo(reason: object, note: object) -> dict[str, str] | None:
    """The recorded reason no photo could be taken, as stored and signed ({"reason", "note"}),
    or None when none was given. "other" needs the note to say what it was."""
    code = str(reason or "").strip()
    text = " ".join(str(note or "").split())
    if not code and not text:
        return None
    if code not in no_photo_reasons():
        raise ValidationFailed(
            msg("请选择未拍照片的原因"), fields={"no_photo_reason": msg("请选择未拍照片的原因")}
        )
    if len(text) > NOTE_MAX:
        said = msg("说明最多 {n} 字", n=NOTE_MAX)
        raise ValidationFailed(said, fields={"no_photo_note": said})
    if code == "other" and not text:
        said = msg("选择“其他原因”时请写明原因")
        raise ValidationFailed(said, fields={"no_photo_note": said})
    return {"reason": code, "note": text}


def no_photo_words(record: Mapping[str, str]) -> Message:
    """The recorded reason in words: the chosen reason, and the inspector's note after it."""
    reason = NO_PHOTO_REASONS.get(record.get("reason", ""), NO_PHOTO_REASONS["other"])
    note = record.get("note", "")
    if note:
        return msg("收货时未拍照片：{reason}（{note}）", reason=reason, note=note)
    return msg("收货时未拍照片：{reason}", reason=reason)


def dimension(key: str) -> Dimension:
    spec = _data()["dimensions"][key]
    return Dimension(
        key,
        spec["zh"],
        spec["en"],
        spec["unit"],
        Decimal(spec["min"]),
        Decimal(spec["max"]),
        Decimal(spec["places"]),
    )


def required_dimensions(article_type: str | None, *, has_stone: bool) -> list[Dimension]:
    """What identifies a piece of this article type (a ring its size, a bangle its inner
    diameter, a chain its length), and its main stone's size when it has one."""
    data = _data()
    keys = list(data["by_article"].get(article_type or "", []))
    if has_stone and article_type not in data["no_main_stone"]:
        keys += [k for k in data["with_stone"] if k not in keys]
    return [dimension(k) for k in keys]


def _exact(dim: Dimension, value: object) -> str:
    """One dimension as signed: within its range, at most its decimals, as exact text."""
    label = bilingual(dim.zh, dim.en)
    number = to_decimal(value, field=label, places=dim.places)
    unit = f" {dim.unit}" if dim.unit else ""
    exact = in_range(number, dim.low, dim.high, field=label, unit=unit)
    return f"{exact.normalize():f}"  # 17.50 -> "17.5", 20.0 -> "20"


def parse_dimensions(
    given: Mapping[str, object], *, article_type: str | None, has_stone: bool
) -> dict[str, str]:
    """The dimensions as signed: every required one present, each within its range, at most
    its decimals, as exact text; an empty value is not given, an unknown key is refused."""
    known = _data()["dimensions"]
    unknown = sorted(k for k, v in given.items() if k not in known and v not in (None, ""))
    if unknown:
        raise ValidationFailed(msg("未知的尺寸：{keys}", keys=", ".join(unknown)))
    found: dict[str, str] = {}
    errors = FieldErrors()
    for key, value in given.items():
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            continue
        checked = errors.take(key, _exact, dimension(key), value)
        if checked is not None:
            found[key] = checked
    for d in required_dimensions(article_type, has_stone=has_stone):
        if d.key not in found and d.key not in errors:
            errors.add(d.key, msg("请填写{field}", field=bilingual(d.zh, d.en)))
    # Each refusal names the dimension in words; the API's error.fields gives its key.
    errors.check()
    return found
