"""Certificate designs as data: a testing body changes its certificate by editing a JSON file.

`certificates/<body_code>/layout.json` (next to its artwork) overrides
`certificates/default/layout.json`. A layout is validated in full when it is loaded, so a typo
fails at start-up with the file and key named rather than as a broken certificate later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZES_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
# Office printers cannot print the outer ~4 mm of a sheet, and the certificate's frame is
# drawn 1.2 mm outside the margin.
MARGIN_RANGE_MM = (6.0, 30.0)
LAYOUT_FILE = "layout.json"
DEFAULT_FOLDER = "default"
_BODY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class LayoutInvalid(ValueError):
    """A layout file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Bilingual:
    zh: str
    en: str


@dataclass(frozen=True)
class Margins:
    """Page margins in millimetres."""

    top: float
    right: float
    bottom: float
    left: float


@dataclass(frozen=True)
class Colours:
    """#RRGGBB colours: band and headings, rules and highlights, body text, secondary text."""

    primary: str
    accent: str
    text: str
    muted: str


EMBLEM_SHAPES = ("ring", "gem")
ACCREDITATION_MARKS = ("CMA", "CNAS", "ILAC-MRA")


@dataclass(frozen=True)
class Emblem:
    """A logo drawn as vectors from data: a double ring or a faceted gem, with short text."""

    shape: str
    text: str


@dataclass(frozen=True)
class Seal:
    """The lab's red testing seal (检验检测专用章): its name runs round the ring."""

    zh: str
    colour: str


@dataclass(frozen=True)
class Layout:
    """One certificate design; `source` is the file it came from, `logo` an absolute path."""

    source: Path
    page_size: str
    margins_mm: Margins
    colours: Colours
    title: Bilingual
    lab_lines: tuple[Bilingual, ...]
    footer: Bilingual
    logo: Path | None
    emblem: Emblem | None = None
    accreditation_marks: tuple[str, ...] = ()
    seal: Seal | None = None
    standards: Bilingual | None = None
    watermark: str | None = None

    @property
    def page_size_mm(self) -> tuple[float, float]:
        return PAGE_SIZES_MM[self.page_size]


def layout_path(certificates_dir: Path, body_code: str | None) -> Path:
    """The testing body's own layout file if it has one, else the default layout's."""
    if body_code is not None and not _BODY_CODE.fullmatch(body_code):
        raise ValueError(f"testing body code {body_code!r} cannot name a layout folder")
    own = certificates_dir / body_code / LAYOUT_FILE if body_code else None
    return own if own and own.is_file() else certificates_dir / DEFAULT_FOLDER / LAYOUT_FILE


def load_layout(certificates_dir: Path, body_code: str | None) -> Layout:
    """The testing body's own layout if it has one, else the default layout."""
    path = layout_path(certificates_dir, body_code)
    try:
        return _parse(json.loads(path.read_text(encoding="utf-8")), path)
    except json.JSONDecodeError as exc:
        raise LayoutInvalid(f"{path}: not valid JSON ({exc})") from exc
    except LayoutInvalid as exc:
        raise LayoutInvalid(f"{path}: {exc}") from exc


def _parse(data: object, path: Path) -> Layout:
    top = _object(
        data,
        "",
        required={"page_size", "margins_mm", "colours", "title", "lab_lines", "footer"},
        optional={"logo", "emblem", "accreditation_marks", "seal", "standards", "watermark"},
    )
    page_size = top["page_size"]
    if not isinstance(page_size, str) or page_size not in PAGE_SIZES_MM:
        raise LayoutInvalid(f"page_size must be one of {', '.join(PAGE_SIZES_MM)}")
    return Layout(
        source=path,
        page_size=page_size,
        margins_mm=_margins(top["margins_mm"]),
        colours=_colours(top["colours"]),
        title=_bilingual(top["title"], "title"),
        lab_lines=_bilingual_list(top["lab_lines"], "lab_lines"),
        footer=_bilingual(top["footer"], "footer"),
        logo=_logo(top.get("logo"), path.parent),
        emblem=_emblem(top.get("emblem")),
        accreditation_marks=_marks(top.get("accreditation_marks", [])),
        seal=_seal(top.get("seal")),
        standards=_bilingual(top["standards"], "standards") if "standards" in top else None,
        watermark=_short_text(top["watermark"], "watermark", 12) if "watermark" in top else None,
    )


def _emblem(value: object) -> Emblem | None:
    if value is None:
        return None
    emblem = _object(value, "emblem", required={"shape", "text"})
    if emblem["shape"] not in EMBLEM_SHAPES:
        raise LayoutInvalid(f"emblem.shape must be one of {', '.join(EMBLEM_SHAPES)}")
    return Emblem(shape=str(emblem["shape"]), text=_short_text(emblem["text"], "emblem.text", 6))


def _marks(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or any(mark not in ACCREDITATION_MARKS for mark in value):
        raise LayoutInvalid(
            f"accreditation_marks must be a list drawn from {', '.join(ACCREDITATION_MARKS)}"
        )
    return tuple(str(mark) for mark in value)


def _seal(value: object) -> Seal | None:
    if value is None:
        return None
    seal = _object(value, "seal", required={"zh", "colour"})
    colour = seal["colour"]
    if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
        raise LayoutInvalid(f"seal.colour must be a colour like #C8102E, got {colour!r}")
    return Seal(zh=_short_text(seal["zh"], "seal.zh", 10), colour=colour)


def _short_text(value: object, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise LayoutInvalid(f"{where} must be non-empty text of at most {limit} characters")
    return value


def _object(
    value: object, where: str, *, required: set[str], optional: set[str] | None = None
) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise LayoutInvalid(f"{where or 'the top level'} must be a JSON object")
    prefix = f"{where}." if where else ""
    if missing := sorted(required - value.keys()):
        raise LayoutInvalid("missing key " + ", ".join(f"'{prefix}{key}'" for key in missing))
    if unknown := sorted(value.keys() - required - (optional or set())):
        raise LayoutInvalid("unknown key " + ", ".join(f"'{prefix}{key}'" for key in unknown))
    return value


def _margins(value: object) -> Margins:
    sides = _object(value, "margins_mm", required={"top", "right", "bottom", "left"})
    return Margins(
        top=_millimetres(sides, "top"),
        right=_millimetres(sides, "right"),
        bottom=_millimetres(sides, "bottom"),
        left=_millimetres(sides, "left"),
    )


def _millimetres(sides: Mapping[str, object], side: str) -> float:
    mm = sides[side]
    if isinstance(mm, bool) or not isinstance(mm, int | float):
        raise LayoutInvalid(f"margins_mm.{side} must be a number of millimetres, got {mm!r}")
    low, high = MARGIN_RANGE_MM
    if not low <= mm <= high:
        raise LayoutInvalid(f"margins_mm.{side} must be between {low:g} and {high:g} mm")
    return float(mm)


def _colours(value: object) -> Colours:
    colours = _object(value, "colours", required={"primary", "accent", "text", "muted"})
    for name, colour in colours.items():
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise LayoutInvalid(f"colours.{name} must be a colour like #1F3A5F, got {colour!r}")
    return Colours(**{name: str(colour) for name, colour in colours.items()})


def _bilingual(value: object, where: str) -> Bilingual:
    texts = _object(value, where, required={"zh", "en"})
    for language, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise LayoutInvalid(f"{where}.{language} must be non-empty text")
    return Bilingual(zh=str(texts["zh"]), en=str(texts["en"]))


def _bilingual_list(value: object, where: str) -> tuple[Bilingual, ...]:
    if not isinstance(value, list):
        raise LayoutInvalid(f"{where} must be a list of {{zh, en}} objects")
    return tuple(_bilingual(item, f"{where}[{index}]") for index, item in enumerate(value))


def _logo(value: object, folder: Path) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or Path(value).name != value:
        raise LayoutInvalid("logo must be a file name in the layout's folder")
    logo = folder / value
    if not logo.is_file():
        raise LayoutInvalid(f"logo file {logo} does not exist")
    return logo
