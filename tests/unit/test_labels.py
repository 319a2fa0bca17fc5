"""Labels: every barcode and QR decodes from the rendered PDF; the ZPL parses and its text
round-trips as UTF-8."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
import zxingcpp

from qc_app.labels.data import ItemLabel, PackingList, PackingRow
from qc_app.labels.pdf import labels_pdf, packing_list_pdf
from qc_app.labels.zpl import labels_zpl

LABELS = [
    ItemLabel("QC7K3M9PX2A4Q", "AU990", "足金", "SJ4M2K8PQ3", "金福珠宝旗舰店"),
    ItemLabel("QCB8N2R5T7W3Z", "JADEITE", "翡翠", "SJ4M2K8PQ3", "金福珠宝旗舰店"),
    ItemLabel("QCX9Y2Z4A6B8C", "AU750", "18K金", "SJ4M2K8PQ3", "金福珠宝旗舰店"),
]


def decoded(pdf: bytes, scale: float = 300 / 72) -> list[set[tuple[str, str]]]:
    """Per page, the (format, text) of every barcode zxing-cpp finds at 300 dpi."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    for page in document:
        image = page.render(scale=scale).to_pil()
        pages.append({(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)})
    return pages


def page_sizes_mm(pdf: bytes) -> list[tuple[int, int]]:
    document = pdfium.PdfDocument(pdf)
    return [(round(p.get_width() * 25.4 / 72), round(p.get_height() * 25.4 / 72)) for p in document]


@pytest.mark.parametrize(("size", "mm"), [("60x40", (60, 40)), ("50x30", (50, 30))])
def test_thermal_labels_one_per_page_with_qr_and_code128(cjk_font_path, size, mm):
    pdf = labels_pdf(LABELS, size, cjk_font_path)
    assert page_sizes_mm(pdf) == [mm] * len(LABELS)
    for label, found in zip(LABELS, decoded(pdf), strict=True):
        assert found == {("QRCode", label.item_code), ("Code128", label.item_code)}


def test_a4_sheet_holds_every_label_and_each_decodes(cjk_font_path):
    many = [ItemLabel(f"QC{i:011d}", "AU990", "足金", "SJ1", "店") for i in range(23)]
    pdf = labels_pdf(many, "a4", cjk_font_path)
    assert page_sizes_mm(pdf) == [(210, 297), (210, 297)]  # 21 per sheet
    found = set().union(*decoded(pdf))
    for label in many:
        assert ("QRCode", label.item_code) in found
        assert ("Code128", label.item_code) in found


def test_label_text_carries_chinese_material_in_embedded_font(cjk_font_path):
    import io

    from pypdf import PdfReader

    pdf = labels_pdf(LABELS[:1], "60x40", cjk_font_path)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "足金" in text and "QC7K3M9PX2A4Q" in text and "金福珠宝旗舰店" in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [f.get_object().get("/FontDescriptor") for f in fonts.values()]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)


def test_packing_list_has_every_row_and_the_consignment_barcode(cjk_font_path):
    import io

    from pypdf import PdfReader

    rows = tuple(
        PackingRow(f"QC{i:011d}", "足金戒指 古法", "足金", "AU990", "5.02", "¥3,280.00", "")
        for i in range(30)
    )
    pdf = packing_list_pdf(
        PackingList("SJ4M2K8PQ3", "金福珠宝旗舰店", "2026-11-22 03:00 UTC", rows), cjk_font_path
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert all(r.item_code in text for r in rows)
    assert ("Code128", "SJ4M2K8PQ3") in decoded(pdf, scale=200 / 72)[0]


# -- ZPL ---------------------------------------------------------------------------------------

COMMAND = re.compile(r"[\^~]([A-Z@][A-Z0-9@]?)")


def parse_zpl(data: bytes) -> list[list[tuple[str, str]]]:
    """Split ZPL into formats (^XA…^XZ), each a list of (command, parameters).

    ^FD runs to the next ^FS and may hold any text but ^ and ~; everything else is a
    two-character command (or ^A@ / ^A0 style font commands) followed by its parameters.
    """
    text = data.decode("utf-8")  # strict: the bytes must be valid UTF-8 (^CI28)
    formats: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] | None = None
    i = 0
    while i < len(text):
        if text[i] in "\r\n":
            i += 1
            continue
        assert text[i] in "^~", f"text outside a command at {i}: {text[i : i + 20]!r}"
        if text.startswith("^FD", i):
            end = text.index("^FS", i)
            assert current is not None
            current.append(("FD", text[i + 3 : end]))
            current.append(("FS", ""))
            i = end + 3
            continue
        name = text[i + 1 : i + 3]
        j = i + 3
        while j < len(text) and text[j] not in "^~\r\n":
            j += 1
        params = text[i + 3 : j]
        if name == "XA":
            assert current is None, "^XA inside a format"
            current = []
        elif name == "XZ":
            assert current is not None, "^XZ without ^XA"
            formats.append(current)
            current = None
        else:
            assert current is not None, f"^{name} outside ^XA…^XZ"
            current.append((name, params))
        i = j
    assert current is None, "unterminated format"
    return formats


def fields_of(commands: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Group a format's commands into fields: from ^FO to ^FS, command name → parameters."""
    fields: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for name, params in commands:
        if name == "FO":
            current = {}
        if current is not None:
            current[name] = params
        if name == "FS":
            assert current is not None and "FD" in current, "^FS without a field"
            fields.append(current)
            current = None
    assert current is None, "field without ^FS"
    return fields


@pytest.mark.parametrize(("size", "dots"), [("60x40", (480, 320)), ("50x30", (400, 240))])
def test_zpl_structure_and_utf8_round_trip(size, dots):
    formats = parse_zpl(labels_zpl(LABELS, size))
    assert len(formats) == len(LABELS)
    for label, commands in zip(LABELS, formats, strict=True):
        names = [n for n, _ in commands]
        assert names[0] == "CI" and commands[0][1] == "28"  # UTF-8 before any field
        assert ("PW", str(dots[0])) in commands and ("LL", str(dots[1])) in commands
        fields = fields_of(commands)
        by_kind = {kind: f["FD"] for f in fields for kind in ("BQ", "BC") if kind in f}
        assert by_kind["BQ"] == f"MA,{label.item_code}"  # QR: error level M, automatic mode
        assert by_kind["BC"] == label.item_code
        chinese = [f["FD"] for f in fields if "A@" in f]
        assert label.material_zh in chinese and label.merchant in chinese
        for f in fields:
            if "A@" in f:
                assert f["A@"].endswith(",E:SIMSUN.TTF")
                width = int(f["FB"].split(",")[0])  # one-line block: long text is cut, not spilled
                assert int(f["FO"].split(",")[0]) + width <= dots[0]
        # every field fits on the label
        origins = [tuple(map(int, p.split(","))) for n, p in commands if n == "FO"]
        assert all(0 <= x < dots[0] and 0 <= y < dots[1] for x, y in origins)


def test_zpl_field_data_cannot_inject_commands():
    evil = ItemLabel("QC1", "AU990", "足金^XZ^XA", "SJ1", "店~JR")
    formats = parse_zpl(labels_zpl([evil], "60x40"))
    assert len(formats) == 1
    texts = [p for n, p in formats[0] if n == "FD"]
    assert "足金 XZ XA" in texts and "店 JR" in texts
