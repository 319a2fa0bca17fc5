"""Item labels as ZPL II for Zebra thermal printers, Chinese text included.

- `^CI28`: field data is UTF-8, so 足金 travels as its UTF-8 bytes.
- Chinese needs a scalable font that has the glyphs; Zebra's built-in fonts do not. We address
  it with `^A@N,h,w,<font>` and default to `E:SIMSUN.TTF` (SimSun uploaded to the printer's
  E: flash, the usual set-up for Chinese on Zebra printers). Printers with Zebra's own Asian
  font kit can pass `E:ANMDS.TTF` (Andale Mono Simplified Chinese) instead: the font name is a
  parameter of `labels_zpl`, never a literal in the label body.
- Dots: 203 dpi is 8 dots/mm (the common Zebra resolution); 300 dpi printers scale with ^MU
  or a second render at dpmm=12.
- The QR (`^BQN,2,m` with `^FDMA,<data>`: M error correction, automatic input) and the Code128
  (`^BCN`) both carry the item code, as the PDF does.
"""

from __future__ import annotations

from collections.abc import Sequence

from qc_app.labels.data import SIZES, ItemLabel

DEFAULT_CJK_FONT = "E:SIMSUN.TTF"


def _field_data(text: str) -> str:
    """^FD text must not contain the command prefixes ^ and ~ (they would start a command)."""
    return text.replace("^", " ").replace("~", " ")


def label_zpl(label: ItemLabel, size: str, *, font: str = DEFAULT_CJK_FONT, dpmm: int = 8) -> str:
    width_mm, height_mm = SIZES[size]
    w, h = int(width_mm * dpmm), int(height_mm * dpmm)
    small = size == "50x30"
    qr_mag = 4 if small else 5
    pad = 2 * dpmm
    text_x = pad + (23 if small else 27) * dpmm // 1
    code_h, zh_h, line_h = (22, 30, 20) if small else (28, 40, 24)
    bar_h = (7 if small else 9) * dpmm
    # ^FB: a one-line block as wide as the text column, so a long shop name is cut, not spilled.
    block = f"^FB{w - text_x - pad},1,0,L,0"
    lines = [
        "^XA",
        "^CI28",
        f"^PW{w}",
        f"^LL{h}",
        "^LH0,0",
        f"^FO{pad},{pad}^BQN,2,{qr_mag}^FDMA,{_field_data(label.item_code)}^FS",
        f"^FO{text_x},{pad + 4}^A0N,{code_h},{code_h}^FD{_field_data(label.item_code)}^FS",
        f"^FO{text_x},{pad + 8 + code_h}^A@N,{zh_h},{zh_h},{font}"
        f"{block}^FD{_field_data(label.material_zh)}^FS",
        f"^FO{text_x},{pad + 14 + code_h + zh_h}^A@N,{line_h},{line_h},{font}"
        f"{block}^FD{_field_data(label.material_code)} {_field_data(label.consignment_code)}^FS",
        f"^FO{text_x},{pad + 18 + code_h + zh_h + line_h}^A@N,{line_h},{line_h},{font}"
        f"{block}^FD{_field_data(label.merchant)}^FS",
        f"^FO{pad},{h - bar_h - pad}^BY2^BCN,{bar_h},N,N,N^FD{_field_data(label.item_code)}^FS",
        "^PQ1",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


def labels_zpl(labels: Sequence[ItemLabel], size: str, *, font: str = DEFAULT_CJK_FONT) -> bytes:
    """One ^XA…^XZ format per label, UTF-8 encoded (as ^CI28 announces)."""
    return "".join(label_zpl(label, size, font=font) for label in labels).encode("utf-8")
