"""The TrueType CJK font every certificate embeds.

reportlab's built-in Chinese font (STSong-Light) is not embedded: a phone or PC without Chinese
fonts shows empty boxes or nothing. Noto CJK has CFF outlines, which reportlab cannot read.
WenQuanYi Micro Hei is TrueType, so reportlab embeds the subset it uses (~24 KB per PDF).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEBIAN_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


P = ParamSpec("P")
R = TypeVar("R")
_drawing = threading.Lock()


class FontMissing(RuntimeError):
    """No TrueType CJK font is installed, so no certificate can be rendered."""


def find_cjk_font(configured: str | None = None) -> Path:
    """The configured font file if it exists, else the first installed Debian WenQuanYi font."""
    candidates = (Path(configured), *DEBIAN_CJK_FONTS) if configured else DEBIAN_CJK_FONTS
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked_at = ", ".join(str(candidate) for candidate in candidates)
    raise FontMissing(
        f"no TrueType CJK font found (looked at {looked_at}): "
        "install Debian's fonts-wqy-microhei or set QC_CJK_FONT"
    )


@cache
def register_cjk_font(path: Path) -> str:
    """Register the font with reportlab once per path and return the name to draw with."""
    name = f"QcCJK-{path.stem}"
    # subfontIndex=0: the .ttc collections hold a proportional face first, monospace second.
    pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    return name


def draws_cjk(render: Callable[P, R]) -> Callable[P, R]:
    """For a function that draws a whole document with the CJK font: one at a time per process.

    The registered TTFont is shared by every document and is not thread-safe: subsetting it at
    save() reads the font file through one shared cursor, so two threads saving at once (parallel
    issues in a threaded server) fail with a KeyError or embed a corrupt subset."""

    @wraps(render)
    def alone(*args: P.args, **kwargs: P.kwargs) -> R:
        with _drawing:
            return render(*args, **kwargs)

    return alone
