"""Each testing body's certificate design, rendered to a picture and read back: the shipped
layouts load, print their own wording and marks, and keep the codes scannable."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from qc_app.certificates.layout import LayoutInvalid, load_layout
from qc_app.certificates.pdf import render_certificate_pdf
from qc_app.certificates.properties import load_vocabulary
from tests.unit.test_certificate_pdf import CERTIFICATES_DIR, VERIFY_URL, make_document

pytestmark = pytest.mark.cjk_font
SHIPPED = ["default", "GTC", "NGTC"]
MEASURED = {
    "mass_g": "3.87",
    "ri": "1.66",
    "sg": "3.33",
    "uv_fluorescence": "none",
    "ir_polymer": False,
    "dye": False,
    "hardness_mohs": "7",  # a key the vocabulary does not know yet
}


def render(body: str, cjk_font_path: Path) -> bytes:
    rows = load_vocabulary(CERTIFICATES_DIR).rows(MEASURED)
    document = make_document(measurements=rows, remarks="表面有轻微划痕")
    layout = load_layout(CERTIFICATES_DIR, None if body == "default" else body)
    return render_certificate_pdf(document, layout, font_path=cjk_font_path)


def to_png(pdf: bytes, path: Path, dpi: int = 150) -> Image.Image:
    with pdfium.PdfDocument(pdf) as document:
        image = document[0].render(scale=dpi / 72).to_pil()
    image.save(path)
    return image


@pytest.mark.parametrize("body", SHIPPED)
def test_shipped_layout_renders_with_scannable_codes(
    body: str, cjk_font_path: Path, tmp_path: Path
) -> None:
    image = to_png(render(body, cjk_font_path), tmp_path / f"{body}.png")
    found = {r.format: r.text for r in zxingcpp.read_barcodes(image)}
    assert found[zxingcpp.BarcodeFormat.QRCode] == VERIFY_URL
    assert found[zxingcpp.BarcodeFormat.Code128] == "GTC-7K3M9Q2XW4HD5"


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ("default", ["珠宝玉石鉴定证书", "JEWELLERY IDENTIFICATION CERTIFICATE"]),
        ("GTC", ["GEM IDENTIFICATION REPORT", "华南珠宝玉石检测中心"]),
        ("NGTC", ["检验证书", "TESTING CERTIFICATE", "NGTC"]),
    ],
)
def test_each_body_prints_its_own_wording(
    body: str, wording: list[str], cjk_font_path: Path
) -> None:
    text = PdfReader(io.BytesIO(render(body, cjk_font_path))).pages[0].extract_text()
    for expected in wording:
        assert expected in text


@pytest.mark.parametrize("body", SHIPPED)
def test_gb_t_16553_items_are_on_every_layout(body: str, cjk_font_path: Path) -> None:
    text = PdfReader(io.BytesIO(render(body, cjk_font_path))).pages[0].extract_text()
    for expected in (
        "证书编号",  # number
        "名称",  # item name
        "总质量",  # total mass
        "形状",  # shape (absent: "—")
        "颜色",  # colour
        "折射率",  # measured properties
        "相对密度",
        "紫外荧光",
        "未检出",
        "hardness_mohs",  # an unknown key under its own name
        "检验结论",  # conclusion
        "样品照片",  # photo
        "检测员",  # analyst
        "审核员",  # reviewer
        "2019000123Z",  # CMA number
        "签发日期",  # date
        "备注",
        "GB/T 16553",
    ):
        assert expected in text, expected


def test_accreditation_marks_follow_the_layout(cjk_font_path: Path) -> None:
    text = PdfReader(io.BytesIO(render("NGTC", cjk_font_path))).pages[0].extract_text()
    assert "ILAC-MRA" in text and "CNAS" in text


def test_seal_is_drawn_in_its_red(cjk_font_path: Path, tmp_path: Path) -> None:
    image = to_png(render("GTC", cjk_font_path), tmp_path / "gtc.png", dpi=72).convert("RGB")
    red, green, blue = (
        band.point(lambda v, t=t: 255 if t(v) else 0)
        for band, t in zip(
            image.split(), (lambda v: v > 170, lambda v: v < 90, lambda v: v < 90), strict=True
        )
    )
    from PIL import ImageChops

    reds = ImageChops.multiply(ImageChops.multiply(red, green), blue).histogram()[255]
    assert reds > 200  # the seal's ring, star and lettering


def test_unknown_accreditation_mark_is_refused(tmp_path: Path) -> None:
    import json

    data = json.loads((CERTIFICATES_DIR / "GTC" / "layout.json").read_text(encoding="utf-8"))
    data["accreditation_marks"] = ["ISO9001"]
    folder = tmp_path / "certificates" / "X"
    folder.mkdir(parents=True)
    (folder / "layout.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(LayoutInvalid, match="accreditation_marks"):
        load_layout(tmp_path / "certificates", "X")
