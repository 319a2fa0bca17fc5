"""Where a certificate's text may break: at spaces and between CJK characters, never inside a
Latin word, a number or a code (CMA / CNAS numbers, certificate numbers, check codes).

reportlab's CJK wrapping breaks anywhere, and its Latin wrapping never breaks CJK text; this
breaks lines the way the page must, and tells the caller when one unbreakable unit is wider
than the line, so that the caller shrinks that text instead of cutting the token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# A run of spaces, one CJK character (with the punctuation that may not start a line), or a run
# of anything else: a Latin word, a number, a code.
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_NO_LINE_START = "，。、；：！？）》」』】〕,.;:!?)%‰"
_UNITS = re.compile(rf"\s+|[{_CJK}][{re.escape(_NO_LINE_START)}]*|[^\s{_CJK}]+")


def units(text: str) -> list[str]:
    """The pieces between which a line may break; joined they give `text` back."""
    return _UNITS.findall(text)


def fit_lines(
    pieces: Sequence[str], measure: Callable[[str], float], width: float
) -> list[str] | None:
    """Greedy lines of at most `width`, breaking only between pieces (spaces at a break are
    dropped); None when one piece alone is wider than the line."""
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if piece.isspace():
            line += " " if line else ""
            continue
        if measure(piece) > width:
            return None
        if line and measure(line + piece) > width:
            lines.append(line.rstrip())
            line = piece
        else:
            line += piece
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
