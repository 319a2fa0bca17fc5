"""The TrueType CJK font every certificate embeds.

reportlab's built-in Chinese font (STSong-Light) is not embedded: a phone or PC without Chinese
fonts shows empty boxes or nothing. Noto CJK has CFF outlines, which reportlab cannot read.
WenQuanYi Micro Hei is TrueType, so reportlab embeds the subset it uses (~24 KB per PDF).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEBIAN_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


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
