"""Item labels and packing lists as PDF (reportlab), Chinese text in the embedded CJK font.

Thermal stock is one label per page (what label printer drivers expect); A4 is a sheet of
3 × 7 labels of 60 × 40 mm. The QR and the Code128 both carry the item code, so either scanner
kind reads it; the QR is drawn as vector squares from the same matrix the certificates use.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from qc_app.certificates.fonts import draws_cjk, register_cjk_font
from qc_app.certificates.qr import qr_matrix
from qc_app.labels.data import SIZES, ItemLabel, PackingList

A4_COLUMNS, A4_ROWS = 3, 7
A4_LEFT, A4_TOP = 15 * mm, 8.5 * mm


def _qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(data)
    module = size / len(matrix)
    path = c.beginPath()
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                path.rect(x + column * module, y + size - (row + 1) * module, module, module)
    c.drawPath(path, stroke=0, fill=1)


def _fit(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest font size ≤ size at which text fits the width."""
    while size > 4 and c.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _label(
    c: canvas.Canvas, label: ItemLabel, font: str, x: float, y: float, w: float, h: float
) -> None:
    pad = 2 * mm
    bar_h = h * 0.26
    qr = h - bar_h - 2 * pad - 1 * mm
    _qr(c, label.item_code, x + pad, y + h - pad - qr, qr)
    tx = x + pad + qr + 1.5 * mm
    tw = x + w - pad - tx
    top = y + h - pad
    c.setFillColorRGB(0, 0, 0)
    size = _fit(c, label.item_code, "Courier-Bold", h / (40 * mm) * 11, tw)
    c.setFont("Courier-Bold", size)
    c.drawString(tx, top - size, label.item_code)
    line = top - size - 1.2 * mm
    zh = _fit(c, label.material_zh, font, h / (40 * mm) * 12, tw)
    c.setFont(font, zh)
    c.drawString(tx, line - zh, label.material_zh)
    line -= zh + 0.8 * mm
    small = _fit(
        c, f"{label.material_code} · {label.consignment_code}", font, h / (40 * mm) * 7, tw
    )
    c.setFont(font, small)
    c.drawString(tx, line - small, f"{label.material_code} · {label.consignment_code}")
    line -= small + 0.6 * mm
    shop = _fit(c, label.merchant, font, h / (40 * mm) * 7, tw)
    c.setFont(font, shop)
    c.drawString(tx, line - shop, label.merchant)
    # Code128 across the bottom, quiet zones of 10 modules kept inside the label.
    bar_w = 0.25 * mm if w < 55 * mm else 0.3 * mm
    barcode = code128.Code128(
        label.item_code,
        barHeight=bar_h,
        barWidth=bar_w,
        quiet=True,
        lquiet=10 * bar_w,
        rquiet=10 * bar_w,
    )
    barcode.drawOn(c, x + (w - barcode.width) / 2, y + pad * 0.6)


@draws_cjk
def labels_pdf(labels: Sequence[ItemLabel], size: str, font_path: Path) -> bytes:
    """size: "60x40" or "50x30" (one label per page) or "a4" (sheets of 3 × 7 60×40 labels)."""
    font = register_cjk_font(font_path)
    out = io.BytesIO()
    if size == "a4":
        c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
        w, h = SIZES["60x40"]
        per_page = A4_COLUMNS * A4_ROWS
        for index, label in enumerate(labels):
            slot = index % per_page
            if index and not slot:
                c.showPage()
            column, row = slot % A4_COLUMNS, slot // A4_COLUMNS
            x = A4_LEFT + column * w * mm
            y = A4[1] - A4_TOP - (row + 1) * h * mm
            c.setStrokeColorRGB(0.85, 0.85, 0.85)
            c.rect(x, y, w * mm, h * mm, stroke=1, fill=0)  # cutting guide
            _label(c, label, font, x, y, w * mm, h * mm)
    else:
        w, h = SIZES[size]
        c = canvas.Canvas(out, pagesize=(w * mm, h * mm), pageCompression=1)
        for index, label in enumerate(labels):
            if index:
                c.showPage()
            _label(c, label, font, 0, 0, w * mm, h * mm)
    c.setTitle("item labels")
    c.showPage()
    c.save()
    return out.getvalue()


@draws_cjk
def packing_list_pdf(packing: PackingList, font_path: Path) -> bytes:
    """A4 packing list that goes in the box: one row per item, the consignment as Code128."""
    font = register_cjk_font(font_path)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"packing list {packing.consignment_code}")
    width, height = A4
    columns = (  # (heading, x mm, max width mm)
        ("物品编号 Item", 15, 32),
        ("商品 Listing", 48, 62),
        ("申报材质 Material", 111, 34),
        ("质量 g", 146, 18),
        ("价格 元", 165, 30),
    )

    def header() -> float:
        c.setFont(font, 16)
        c.drawString(15 * mm, height - 20 * mm, "送检装箱单  Consignment packing list")
        c.setFont(font, 10)
        c.drawString(
            15 * mm, height - 27 * mm, f"送检单 {packing.consignment_code} · {packing.merchant}"
        )
        c.drawString(
            15 * mm, height - 32 * mm, f"创建 {packing.created} · 共 {len(packing.rows)} 件"
        )
        bar = code128.Code128(packing.consignment_code, barHeight=12 * mm, barWidth=0.35 * mm)
        bar.drawOn(c, width - 15 * mm - bar.width, height - 34 * mm)
        y = height - 44 * mm
        c.setFont(font, 9)
        for title, x, _ in columns:
            c.drawString(x * mm, y, title)
        c.line(15 * mm, y - 2 * mm, width - 15 * mm, y - 2 * mm)
        return float(y - 7 * mm)

    y = header()
    for row in packing.rows:
        if y < 25 * mm:
            c.showPage()
            y = header()
        cells = (
            row.item_code,
            row.listing_title,
            f"{row.material_zh} {row.material_code}",
            row.mass_g,
            row.price_yuan,
        )
        for text, (_, x, max_w) in zip(cells, columns, strict=True):
            size = _fit(c, text, font, 9, max_w * mm)
            c.setFont(font, size)
            c.drawString(x * mm, y, text)
        if row.description:
            c.setFont(font, 7)
            c.setFillColorRGB(0.4, 0.4, 0.4)
            c.drawString(48 * mm, y - 3.5 * mm, row.description[:60])
            c.setFillColorRGB(0, 0, 0)
        c.setStrokeColorRGB(0.85, 0.85, 0.85)
        c.line(15 * mm, y - 5 * mm, width - 15 * mm, y - 5 * mm)
        y -= 10 * mm
    c.setFont(font, 9)
    c.drawString(15 * mm, 15 * mm, "收货核对人 Checked by: ____________    日期 Date: ____________")
    c.showPage()
    c.save()
    return out.getvalue()
