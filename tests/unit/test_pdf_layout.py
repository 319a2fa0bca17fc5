"""Every layout a certificate can take, rendered with the longest real values and read back
glyph by glyph: no two words overlap, nothing sits under the seal, the QR, the barcode or the
photo, everything stays inside the margins, accreditation and certificate numbers are never
broken across lines, and the lab is named one way (issue 18)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from qc_app.certificates.layout import Layout, load_layout
from qc_app.certificates.pdf import (
    MM,
    READABLE_SCALE,
    CertificateDocument,
    render_certificate_pdf,
)
from qc_app.certificates.properties import (
    dimension_rows,
    grading_rows,
    load_vocabulary,
    part_rows,
)
from qc_app.inspection.models import SEAL_NAME_MAX_CHARS
from qc_app.rules.engine import load_ruleset
from tests.unit.test_certificate_pdf import CERTIFICATES_DIR, jpeg, make_document

pytestmark = pytest.mark.cjk_font

RULES = "2026.11-3"
# The longest values the records allow or the trade uses: a lab's full registered name in both
# languages, CMA and CNAS numbers with their prefixes, names that fill their columns.
# The Chinese name as long as a testing body's record allows (the seal's rule).
LAB_ZH = "国家黄金钻石制品质量检验检测中心（深圳）珠宝贵金属检测实验室"
assert len(LAB_ZH) == SEAL_NAME_MAX_CHARS
LAB_EN = (
    "National Gold & Diamond Products Quality Supervision and Inspection Center (Shenzhen) "
    "Gem and Precious Metal Testing Laboratory"
)
CMA = "CMA 2024190123456789Z-GD-0001"
CNAS = "CNAS L12345-2026-ILAC-MRA"
NUMBER = "NGTC-7K3M9Q2XW4HD5"
CHECK_CODE = "K7QM-2XWP"
ITEM_CODE = "IT-2026-0001234"
LONG_REMARKS = (
    "表面有轻微划痕，局部可见细小裂纹及充填痕迹，扣头处有磨损；"
    "surface scratches, small fissures with traces of filling, wear at the clasp "
) * 2
GRADING = {
    "standard": "GB/T 16554-2017",
    "carat": "10.235",
    "colour": "D",
    "colour_scale": "100",
    "clarity": "VVS1",
    "cut": "very_good",
    "fluorescence": "strong",
}


def _rows(family: str, measured: dict[str, Any]) -> tuple[Any, ...]:
    return load_vocabulary(CERTIFICATES_DIR).rows(measured, load_ruleset(RULES).fields(family))


def _parts(count: int) -> list[dict[str, Any]]:
    names = [
        ("合成钻石（培育钻石）", "Synthetic (laboratory-grown) diamond", "108"),
        ("翡翠（处理）", "Jadeite (treated)", "1"),
        ("人造钛酸锶", "Artificial strontium titanate", "36"),
        ("18K金", "Gold 750", "1"),
    ]
    return [
        {
            "index": index + 1,
            "declared": {"count": names[index % 4][2]},
            "name_zh": names[index % 4][0],
            "name_en": names[index % 4][1],
            "verdict": "pass" if index % 3 else "fail",
            "measured": {},
            "grading": GRADING if index % 4 == 0 else None,
        }
        for index in range(count)
    ]


DIMENSIONS = {
    "length_mm": "1999.9",
    "width_mm": "999.9",
    "height_mm": "999.9",
    "stone_length_mm": "199.99",
    "stone_width_mm": "199.99",
}

CASES: dict[str, dict[str, Any]] = {
    "gold": {
        "item_name_zh": "足金999素圈戒指",
        "item_name_en": "Gold 999 ring",
        "measurements": _rows(
            "precious_metal",
            {"mass_g": "999.99", "metal": "Au", "fineness_permille": "999.9", "stamp": "足金999"},
        ),
    },
    "jadeite_108_beads": {
        "item_name_zh": "翡翠（处理）108颗珠串手链（染色、充填）",
        "item_name_en": "Jadeite (treated) 108-bead string bracelet (dyed, filled)",
        "measurements": _rows(
            "jade",
            {
                "mass_g": "120.55",
                "species": "jadeite",
                "ri": "1.66",
                "sg": "3.33",
                "uv_fluorescence": "strong",
                "ir_polymer": True,
                "dye": True,
                "colour": "绿色、紫罗兰色",
                "shape": "圆珠",
            },
        )
        + dimension_rows({"bead_diameter_mm": "12.5"}),
        "remarks": LONG_REMARKS,
    },
    "nephrite": {
        "item_name_zh": "和田玉（软玉）手镯",
        "item_name_en": "Nephrite bangle",
        "measurements": _rows(
            "jade", {"mass_g": "85.20", "species": "nephrite", "ri": "1.62", "sg": "2.95"}
        )
        + dimension_rows({"inner_diameter_mm": "56.5"}),
    },
    "diamond_graded": {
        "item_name_zh": "合成钻石（培育钻石）",
        "item_name_en": "Synthetic (laboratory-grown) diamond",
        "measurements": _rows("diamond", {"mass_g": "2.047", "growth": "cvd", "ri": "2.42"})
        + grading_rows(GRADING),  # type: ignore[arg-type]
    },
    "diamond_ungraded": {
        "item_name_zh": "钻石",
        "item_name_en": "Diamond",
        "measurements": _rows("diamond", {"mass_g": "0.040", "growth": "natural"}),
    },
    "pearl": {
        "item_name_zh": "海水珍珠项链",
        "item_name_en": "Seawater pearl necklace",
        "measurements": _rows(
            "organic", {"mass_g": "45.10", "species": "pearl_seawater", "sg": "2.70"}
        )
        + dimension_rows({"length_mm": "1999.9"}),
    },
    "collectible_no_photo": {
        "item_name_zh": "人造钛酸锶摆件",
        "item_name_en": "Artificial strontium titanate ornament",
        "measurements": _rows("imitation", {"mass_g": "999.99", "species": "glass"})
        + dimension_rows(DIMENSIONS),
        "photo_jpeg": None,
    },
    "set_piece_12_parts": {
        "item_name_zh": "18K金镶合成钻石（培育钻石）、翡翠（处理）等吊坠",
        "item_name_en": (
            "Gold 750 pendant set with synthetic (laboratory-grown) diamond, "
            "jadeite (treated) and others"
        ),
        "measurements": _rows("precious_metal", {"mass_g": "25.08", "metal": "Au"})
        + part_rows(_parts(12))
        + dimension_rows(DIMENSIONS),
        "remarks": LONG_REMARKS,
    },
}
BODIES = ["default", "GTC", "NGTC"]


def worst_case(case: str) -> CertificateDocument:
    values = CASES[case]
    fields: dict[str, Any] = {
        "number": NUMBER,
        "check_code": CHECK_CODE,
        "item_code": ITEM_CODE,
        "conclusion_zh": f"{values['item_name_zh']}，检测结果与申报一致",
        "conclusion_en": f"{values['item_name_en']}; matches the declaration",
        "merchant_name": "金福珠宝（深圳）珠宝首饰有限公司旗舰店 Golden Fortune Jewellery Flagship",
        "listing_title": (
            "足金999素圈戒指 经典光面 情侣对戒 男女款 婚戒 送礼 Gold 999 plain band ring"
        ),
        "testing_body_zh": LAB_ZH,
        "testing_body_en": LAB_EN,
        "cma_no": CMA,
        "cnas_no": CNAS,
        "analyst_name": "欧阳晓明 Alexandra Catherine Montgomery-Smith",
        "reviewer_name": "司马王芳 Bartholomew Fitzgerald Okonkwo-Lee",
        "rule_version": "rules-2026.11-3",
        "kid": "qc-2026-01-ed25519-k7",
        "photo_jpeg": jpeg((400, 900)),
    }
    return make_document(**(fields | values))


def layouts() -> Iterator[tuple[str, Layout]]:
    for body in BODIES:
        layout = load_layout(CERTIFICATES_DIR, None if body == "default" else body)
        yield body, layout
        if body == "default":
            yield "default-A5", replace(layout, page_size="A5")


LAYOUTS = dict(layouts())
Box = tuple[float, float, float, float]  # x0, top, x1, bottom


def _box(thing: dict[str, Any]) -> Box:
    return thing["x0"], thing["top"], thing["x1"], thing["bottom"]


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _overlap(a: Box, b: Box, slack: float = 0.4) -> bool:
    """Boxes that share more than a sliver (glyph boxes of adjacent lines may touch)."""
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def _is_red(colour: object) -> bool:
    if not isinstance(colour, tuple | list) or len(colour) != 3:
        return False
    red, green, blue = colour
    return red > 0.55 and green < 0.35 and blue < 0.35


def read_pages(pdf: bytes) -> list[ReadBack]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [ReadBack(page) for page in document.pages]


class ReadBack:
    """One rendered certificate page as pdfplumber sees it."""

    def __init__(self, page: Any) -> None:
        self.width, self.height = float(page.width), float(page.height)
        chars = page.chars
        # The watermark is meant to lie faintly under the body; the seal is its own box.
        self.seal_chars = [c for c in chars if _is_red(c.get("non_stroking_color"))]
        seal_shapes = [_box(c) for c in page.curves if _is_red(c.get("stroking_color"))] + [
            _box(c) for c in self.seal_chars
        ]
        self.seal = _union(seal_shapes) if seal_shapes else None
        text_chars = [
            c
            for c in chars
            if c not in self.seal_chars
            and abs(c["matrix"][1]) < 1e-6  # the watermark runs at 30°, under the body
        ]
        body = page.filter(lambda obj: obj.get("object_type") != "char" or obj in text_chars)
        self.words = [
            (w["text"], _box(w))
            for w in body.extract_words(keep_blank_chars=False, x_tolerance=1, y_tolerance=1)
        ]
        # The fixed English labels (Helvetica, 6 pt at the least) show the body's scale.
        self.smallest_label = min(
            (c["size"] for c in text_chars if c["fontname"].endswith("Helvetica")),
            default=0.0,
        )
        self.lines = [
            line["text"] for line in body.extract_text_lines(x_tolerance=1, y_tolerance=1)
        ]
        self.images = [_box(i) for i in page.images]
        white_squares = [
            r
            for r in page.rects
            if abs(r["width"] - 30 * MM) < 1
            and abs(r["height"] - 30 * MM) < 1
            and r.get("non_stroking_color") in ((1, 1, 1), (1.0, 1.0, 1.0), [1, 1, 1])
        ]
        self.qr = _box(white_squares[0]) if white_squares else None
        # Code128 bars: black filled rects outside the QR, 10 mm tall.
        bars = [
            _box(r)
            for r in page.rects
            if abs(r["height"] - 10 * MM) < 0.5
            and r.get("non_stroking_color") in ((0,), (0, 0, 0), [0])
        ]
        self.barcode = _union(bars) if bars else None


SHEETS = [(c, b) for b in LAYOUTS for c in CASES]
Sheet = tuple[str, str, list[ReadBack]]


def render(case: str, body: str, cjk_font_path: Path) -> bytes:
    return render_certificate_pdf(worst_case(case), LAYOUTS[body], font_path=cjk_font_path)


@pytest.fixture(scope="module", params=SHEETS, ids="-".join)
def sheet(request: pytest.FixtureRequest, cjk_font_path: Path) -> Sheet:
    case, body = request.param
    pdf = render(case, body, cjk_font_path)
    if folder := os.environ.get("QC_PDF_SHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{body}-{case}.pdf").write_bytes(pdf)
    return case, body, read_pages(pdf)


def test_no_two_words_overlap(sheet: Sheet) -> None:
    for page in sheet[2]:
        words = page.words
        clashes = [
            (a[0], b[0])
            for i, a in enumerate(words)
            for b in words[i + 1 :]
            if _overlap(a[1], b[1])
        ]
        assert not clashes


def test_no_word_under_the_seal_qr_barcode_or_photo(sheet: Sheet) -> None:
    pages = sheet[2]
    # The seal signs off on the last page; the QR and the barcode are on every page.
    assert pages[-1].seal is not None
    for page in pages:
        assert page.qr is not None and page.barcode is not None
        marks = {"seal": page.seal, "qr": page.qr, "barcode": page.barcode}
        marks |= {f"image{i}": image for i, image in enumerate(page.images)}
        covered = [
            (name, text)
            for text, box in page.words
            for name, mark in marks.items()
            if mark is not None and _overlap(box, mark)
        ]
        assert not covered


def test_every_word_inside_the_margins(sheet: Sheet) -> None:
    _, body, pages = sheet
    margins = LAYOUTS[body].margins_mm
    for page in pages:
        left, top = margins.left * MM, margins.top * MM
        right, bottom = page.width - margins.right * MM, page.height - margins.bottom * MM
        outside = [
            text
            for text, (x0, y0, x1, y1) in page.words
            if x0 < left - 0.5 or y0 < top - 0.5 or x1 > right + 0.5 or y1 > bottom + 0.5
        ]
        assert not outside


def test_the_body_is_never_shrunk_below_readable_and_pages_are_numbered(sheet: Sheet) -> None:
    _, body, pages = sheet
    # A4 takes every case on two pages at most; A5's body room is a third of A4's, and a
    # 12-part set piece's rows need four pages there at the readable floor.
    assert len(pages) <= (2 if LAYOUTS[body].page_size == "A4" else 4)
    for page in pages:
        assert page.smallest_label >= 6 * READABLE_SCALE - 0.05
    if len(pages) > 1:
        for number, page in enumerate(pages, start=1):
            marker = f"第{number}/{len(pages)}页"
            assert any(marker in "".join(line.split()) for line in page.lines), marker


def test_numbers_and_codes_appear_whole_on_one_line(sheet: Sheet) -> None:
    pages = sheet[2]

    def whole(token: str, page: ReadBack) -> bool:
        return any("".join(token.split()) in "".join(line.split()) for line in page.lines)

    # The number and the verification band's codes on every page, the rest on one of them.
    for page in pages:
        for token in (NUMBER, CHECK_CODE, "qc-2026-01-ed25519-k7"):
            assert whole(token, page), token
    for token in (CMA, CNAS, ITEM_CODE):
        assert any(whole(token, page) for page in pages), token


def test_the_lab_is_named_one_way(sheet: Sheet) -> None:
    _, body, pages = sheet
    page = pages[-1]
    # The testing body's record names the lab once; the layout's wording names none.
    text = " ".join(line for p in pages for line in p.lines).replace("实验室认可", "")
    # A Chinese name may break across lines, its last line beside the next label.
    squeezed = "".join(text.replace("检测机构", "").split())
    for word in ("中心", "实验室"):
        assert squeezed.count(word) == LAB_ZH.count(word), word
    for word in ("Center", "Centre", "Laboratory"):
        assert text.count(word) == LAB_EN.count(word), word
    assert "".join(LAB_ZH.split()[:1])[:12] in "".join(text.split())
    # The seal runs the same name round its ring, whole.
    seal = LAYOUTS[body].seal
    assert seal is not None
    assert "".join(c["text"] for c in page.seal_chars) == seal.zh + LAB_ZH
