"""Certificate PDFs: the bilingual page a lab signs, with the signed payload travelling inside.

Rendering only: the caller passes the document, the layout and the font in and gets bytes back,
so issuance decides where they go and a test renders one without a database or a key. The
signed payload and its signature are attached to the PDF as files, so anyone holding the PDF
and the published public key can verify it offline; `read_embedded_payload` reads them back.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab import rl_config
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus import Image as ImageFlowable

from qc_app.certificates import wrap
from qc_app.certificates.fonts import draws_cjk, register_cjk_font
from qc_app.certificates.layout import Emblem, Layout, Seal
from qc_app.certificates.properties import PropertyRow
from qc_app.certificates.qr import qr_matrix
from qc_app.i18n import Message, pmsg
from qc_app.units import local_time

PAYLOAD_ATTACHMENT = "qc-payload.json"
SIGNATURE_ATTACHMENT = "qc-signature.json"
SIGNATURE_ALG = "EdDSA"
# The default zone of the issue date: China has kept UTC+8 without daylight saving since 1991.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# Fixed English labels are Helvetica and the codes (ASCII by construction) Courier; every
# other string from data or the layout uses the CJK font, which covers Latin as well.
MM = 72 / 25.4  # points per millimetre
LATIN = "Helvetica"
MONO = "Courier-Bold"
QR_SIZE = 30 * MM
# 0.35 mm modules are ~2 px at 150 dpi: the smallest that still decodes from a scan.
BARCODE_MODULE = 0.35 * MM
BARCODE_HEIGHT = 10 * MM
CHECK_CODE_COLUMN = 45 * MM
PAD = 5 * MM
RULE = 0.8 * MM
HEADER_HEIGHT = 24 * MM
# A body shrunk further than this to fit the page is hard to read (the English labels, 6 pt,
# would print under 4.2 pt, the values under 7 pt): what does not fit goes on another page.
READABLE_SCALE = 0.7
Cell = tuple[int, int]


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on one certificate, already decided and signed by the caller."""

    number: str
    check_code: str
    verify_url: str  # goes into the QR verbatim
    issued_at: datetime  # timezone-aware; printed as the date in Shanghai
    item_code: str
    item_name_zh: str
    item_name_en: str
    conclusion_zh: str
    conclusion_en: str
    measurements: tuple[PropertyRow, ...]  # mass, shape, colour and every measured property
    merchant_name: str
    listing_title: str
    testing_body_zh: str
    testing_body_en: str
    cma_no: str
    cnas_no: str | None
    analyst_name: str
    reviewer_name: str
    photo_jpeg: bytes | None
    rule_version: str
    kid: str
    payload_json: bytes  # exactly the signed bytes
    signature_b64: str  # base64url Ed25519 signature of payload_json
    remarks: str | None = None  # the analyst's observations, printed as 备注
    # Received without photos: why none could be taken, printed where the photo would be.
    no_photo: Message | None = None
    zone: tzinfo = SHANGHAI  # the issue date is printed in this zone (Config.TIMEZONE)


@dataclass(frozen=True)
class EmbeddedPayload:
    """The signed bytes and signature found inside a certificate PDF (not yet verified)."""

    payload_json: bytes
    signature_b64: str
    kid: str


class PayloadMissing(ValueError):
    """The PDF carries no readable signed payload: not one of our certificates."""


@draws_cjk
def render_certificate_pdf(doc: CertificateDocument, layout: Layout, *, font_path: Path) -> bytes:
    """Certificate PDF with the signed payload and signature attached: one page, or more when
    the results do not fit one at a readable size (`READABLE_SCALE`)."""
    if doc.issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    # Binary streams: reportlab's pure-Python ASCII85 encoding of the photo costs a sixth of
    # the render time and makes the file a quarter bigger.
    rl_config.useA85 = 0
    styles = _Styles.build(layout, register_cjk_font(font_path))
    return _attach_payload(_draw_certificate(doc, layout, styles), doc)


def read_embedded_payload(pdf_bytes: bytes) -> EmbeddedPayload:
    """The payload and signature attached by `render_certificate_pdf`, exactly as attached."""
    attachments = _attachments(pdf_bytes)
    payload = _only_attachment(attachments, PAYLOAD_ATTACHMENT)
    signature = _signature_fields(_only_attachment(attachments, SIGNATURE_ATTACHMENT))
    return EmbeddedPayload(payload, signature["signature"], signature["kid"])


def _attachments(pdf_bytes: bytes) -> dict[str, list[bytes]]:
    try:
        attachments = PdfReader(io.BytesIO(pdf_bytes)).attachments
        return {name: attachments[name] for name in attachments}
    except PdfReadError as exc:
        raise PayloadMissing(f"not a readable PDF: {exc}") from exc


def _only_attachment(attachments: dict[str, list[bytes]], name: str) -> bytes:
    # Two files of the same name would let a forger choose which one a reader shows.
    found = attachments.get(name, [])
    if len(found) != 1:
        raise PayloadMissing(f"expected one attachment {name} in the PDF, found {len(found)}")
    return found[0]


def _signature_fields(raw: bytes) -> dict[str, str]:
    try:
        signature = json.loads(raw)
    except ValueError as exc:
        raise PayloadMissing(f"{SIGNATURE_ATTACHMENT} is not JSON") from exc
    if not isinstance(signature, dict) or signature.get("alg") != SIGNATURE_ALG:
        raise PayloadMissing(f"{SIGNATURE_ATTACHMENT} is not an {SIGNATURE_ALG} signature")
    if not all(isinstance(signature.get(key), str) for key in ("kid", "signature")):
        raise PayloadMissing(f"{SIGNATURE_ATTACHMENT} lacks a kid or a signature")
    return signature


def _attach_payload(pdf: bytes, doc: CertificateDocument) -> bytes:
    # An incremental update: appending two file streams costs a fraction of re-writing the
    # whole document, and the PAdES signature then covers them as part of the file.
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signature = {"alg": SIGNATURE_ALG, "kid": doc.kid, "signature": doc.signature_b64}
    for name, data in (
        (PAYLOAD_ATTACHMENT, doc.payload_json),
        (SIGNATURE_ATTACHMENT, json.dumps(signature).encode()),
    ):
        embedded = embed.EmbeddedFileObject.from_file_data(
            writer, data=data, mime_type="application/json"
        )
        embed.embed_file(
            writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=embedded)
        )
    output = io.BytesIO()
    writer.write(output)  # type: ignore[no-untyped-call]  # pyhanko leaves write() unannotated
    return output.getvalue()


@dataclass(frozen=True)
class _Styles:
    """Colours and paragraph styles derived from a layout and the registered CJK font."""

    cjk: str
    primary: Color
    accent: Color
    muted: Color
    label_zh: ParagraphStyle
    label_en: ParagraphStyle
    inline_label: ParagraphStyle
    caption: ParagraphStyle
    heading: ParagraphStyle
    value_zh: ParagraphStyle
    value_en: ParagraphStyle
    conclusion_zh: ParagraphStyle
    note_zh: ParagraphStyle
    note_en: ParagraphStyle
    number: ParagraphStyle
    check_code: ParagraphStyle
    url: ParagraphStyle

    @classmethod
    def build(cls, layout: Layout, cjk: str) -> _Styles:
        colours = layout.colours
        primary, text, muted = (HexColor(c) for c in (colours.primary, colours.text, colours.muted))

        def style(name: str, font: str, size: float, colour: Color, **extra: Any) -> ParagraphStyle:
            extra.setdefault("leading", size * 1.3)
            return ParagraphStyle(name, fontName=font, fontSize=size, textColor=colour, **extra)

        return cls(
            cjk=cjk,
            primary=primary,
            accent=HexColor(colours.accent),
            muted=muted,
            label_zh=style("label_zh", cjk, 8, text, leading=9.5),
            label_en=style("label_en", LATIN, 6, muted, leading=7),
            inline_label=style("inline_label", cjk, 7.5, text, spaceAfter=1),
            caption=style("caption", cjk, 7, muted, alignment=TA_CENTER),
            heading=style("heading", cjk, 10.5, primary, spaceAfter=3),
            value_zh=style("value_zh", cjk, 10, text, wordWrap="CJK", leading=12),
            value_en=style("value_en", cjk, 7, muted, leading=8.5),
            conclusion_zh=style("conclusion_zh", cjk, 13, primary, wordWrap="CJK"),
            note_zh=style("note_zh", cjk, 7, muted, wordWrap="CJK"),
            note_en=style("note_en", cjk, 6.5, muted),
            number=style("number", MONO, 9, text),
            check_code=style("check_code", MONO, 18, primary, leading=20),
            # Break the long URL anywhere rather than let it run off the page.
            url=style("url", "Courier", 6.5, muted, wordWrap="CJK"),
        )


@dataclass(frozen=True)
class _Sheet:
    """Where to draw: the canvas and the content box (points) inside the page margins."""

    canvas: Canvas
    styles: _Styles
    left: float
    bottom: float
    right: float
    top: float

    @property
    def width(self) -> float:
        return self.right - self.left


def _draw_certificate(doc: CertificateDocument, layout: Layout, styles: _Styles) -> bytes:
    buffer = io.BytesIO()
    page_width, page_height = (side * MM for side in layout.page_size_mm)
    canvas = Canvas(buffer, pagesize=(page_width, page_height))
    canvas.setTitle(doc.number)
    canvas.setSubject(f"{layout.title.zh} {layout.title.en} {doc.number}")
    canvas.setAuthor(doc.testing_body_en)
    canvas.setCreator("qc_app")
    margins = layout.margins_mm
    sheet = _Sheet(
        canvas=canvas,
        styles=styles,
        left=margins.left * MM,
        bottom=margins.bottom * MM,
        right=page_width - margins.right * MM,
        top=page_height - margins.top * MM,
    )
    header_bottom = sheet.top - HEADER_HEIGHT - RULE
    band_top = (
        sheet.bottom
        + _verification_band(sheet, doc, layout).wrapOn(
            canvas, sheet.width, sheet.top - sheet.bottom
        )[1]
        + RULE
    )
    top, bottom = header_bottom - PAD, band_top + PAD
    pages = _body_pages(styles, doc, layout, sheet.width - 2 * PAD, top - bottom)
    # Every page carries the number and the QR: a page separated from the others still
    # says which certificate it belongs to and where to verify it.
    for number, page in enumerate(pages, start=1):
        _draw_header(sheet, doc, layout, (number, len(pages)))
        _draw_verification_band(sheet, doc, layout)
        if layout.watermark:
            _draw_watermark(sheet, layout.watermark, header_bottom, band_top)
        _draw_body(sheet, page, top=top, bottom=bottom)
        _draw_frame(sheet)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_frame(sheet: _Sheet) -> None:
    canvas, styles = sheet.canvas, sheet.styles
    canvas.setStrokeColor(styles.primary)
    canvas.setLineWidth(1.2)
    canvas.rect(sheet.left, sheet.bottom, sheet.width, sheet.top - sheet.bottom)
    canvas.setStrokeColor(styles.accent)
    canvas.setLineWidth(0.4)
    inset = 1.2 * MM
    canvas.rect(
        sheet.left - inset,
        sheet.bottom - inset,
        sheet.width + 2 * inset,
        sheet.top - sheet.bottom + 2 * inset,
    )


def _draw_header(
    sheet: _Sheet, doc: CertificateDocument, layout: Layout, page: tuple[int, int]
) -> None:
    """Coloured band: logo and title on the left, number and issue date on the right, and
    which page of how many above the number when there is more than one."""
    canvas, styles = sheet.canvas, sheet.styles
    height = HEADER_HEIGHT
    bottom = sheet.top - height
    canvas.setFillColor(styles.primary)
    canvas.rect(sheet.left, bottom, sheet.width, height, stroke=0, fill=1)
    canvas.setFillColor(styles.accent)
    canvas.rect(sheet.left, bottom - RULE, sheet.width, RULE, stroke=0, fill=1)
    title_left = sheet.left + PAD + _draw_logo(sheet, layout, bottom, height)
    right = sheet.right - PAD
    codes = max(stringWidth(text, MONO, 12) for text in (doc.number, _issue_date(doc)))
    label_width = _draw_header_field(
        sheet, right, bottom + 16 * MM, pmsg("certificate", "证书编号"), doc.number
    )
    _draw_header_field(
        sheet, right, bottom + 5 * MM, pmsg("certificate", "签发日期"), _issue_date(doc)
    )
    if page[1] > 1:
        marker = pmsg("certificate", "第 {page}/{pages} 页", page=page[0], pages=page[1])
        codes = max(
            codes,
            label_width
            + 3 * MM
            + _draw_page_marker(sheet, right - label_width, bottom + 20 * MM, marker),
        )
    _draw_title(sheet, layout, title_left, bottom, right - codes - PAD - title_left)


def _issue_date(doc: CertificateDocument) -> str:
    return local_time(doc.issued_at, doc.zone, "%Y-%m-%d")


def _draw_logo(sheet: _Sheet, layout: Layout, band_bottom: float, band_height: float) -> float:
    """Draw the layout's logo (a PNG, or the emblem drawn from data) and return its width."""
    if layout.logo is None:
        if layout.emblem is None:
            return 0.0
        size = band_height - 6 * MM
        _draw_emblem(sheet, layout.emblem, sheet.left + PAD, band_bottom + 3 * MM, size)
        return size + 4 * MM
    logo = ImageReader(str(layout.logo))
    pixel_width, pixel_height = logo.getSize()
    height = band_height - 8 * MM
    width: float = height * pixel_width / pixel_height
    sheet.canvas.drawImage(logo, sheet.left + PAD, band_bottom + 4 * MM, width, height, mask="auto")
    return width + 4 * MM


def _draw_title(
    sheet: _Sheet, layout: Layout, left: float, band_bottom: float, room: float
) -> None:
    """The title and its English line, each made smaller rather than run under the number."""
    canvas, styles = sheet.canvas, sheet.styles
    english = layout.title.en.upper()
    size = _fitting(room, 20, lambda size: _spaced_width(layout.title.zh, styles.cjk, size, 2))
    sub = _fitting(room, 8.5, lambda size: _spaced_width(english, styles.cjk, size, 1.2))
    # Render mode and character spacing persist in the PDF text state: keep them to the title.
    canvas.saveState()
    title = canvas.beginText(left, band_bottom + 12 * MM)
    # WenQuanYi has no bold face: fill and stroke the outline to embolden the title.
    title.setTextRenderMode(2)
    canvas.setLineWidth(0.35)
    canvas.setStrokeColor(white)
    title.setFillColor(white)
    title.setFont(styles.cjk, size)
    title.setCharSpace(2)
    title.textLine(layout.title.zh)
    canvas.drawText(title)
    subtitle = canvas.beginText(left, band_bottom + 5.5 * MM)
    subtitle.setTextRenderMode(0)
    subtitle.setFillColor(_tint(styles.accent, 0.55))
    subtitle.setFont(styles.cjk, sub)
    subtitle.setCharSpace(1.2)
    subtitle.textLine(english)
    canvas.drawText(subtitle)
    canvas.restoreState()


def _spaced_width(text: str, font: str, size: float, char_space: float) -> float:
    return float(stringWidth(text, font, size)) + char_space * len(text)


def _fitting(room: float, size: float, width_at: Any) -> float:
    """`size`, or the largest smaller size (quarter points) at which `width_at(size)` fits."""
    while size > 3 and width_at(size) > room:
        size -= 0.25
    return size


def _draw_header_field(
    sheet: _Sheet, right: float, baseline: float, label: Message, value: str
) -> float:
    """The label's two languages over the value, right-aligned; returns the label's width."""
    label_width = _draw_page_marker(sheet, right, baseline + 4 * MM, label)
    sheet.canvas.setFillColor(white)
    sheet.canvas.setFont(MONO, 12)
    sheet.canvas.drawRightString(right, baseline, value)
    return label_width


def _draw_page_marker(sheet: _Sheet, right: float, baseline: float, label: Message) -> float:
    """A small bilingual label on the header band ending at `right`; returns its width."""
    canvas, styles = sheet.canvas, sheet.styles
    label_zh, label_en = _both(label)
    canvas.setFillColor(_tint(styles.accent, 0.55))
    canvas.setFont(LATIN, 6.5)
    canvas.drawRightString(right, baseline, label_en)
    en_width = canvas.stringWidth(label_en, LATIN, 6.5)
    canvas.setFont(styles.cjk, 7.5)
    canvas.drawRightString(right - en_width - 1.5 * MM, baseline, label_zh)
    return float(en_width + 1.5 * MM + canvas.stringWidth(label_zh, styles.cjk, 7.5))


def _draw_verification_band(sheet: _Sheet, doc: CertificateDocument, layout: Layout) -> None:
    """Bottom band: QR, barcode, check code and how to verify."""
    canvas, styles = sheet.canvas, sheet.styles
    band = _verification_band(sheet, doc, layout)
    height: float = band.wrapOn(canvas, sheet.width, sheet.top - sheet.bottom)[1]
    canvas.setFillColor(_tint(styles.primary, 0.06))
    canvas.rect(sheet.left, sheet.bottom, sheet.width, height, stroke=0, fill=1)
    canvas.setFillColor(styles.accent)
    canvas.rect(sheet.left, sheet.bottom + height, sheet.width, RULE, stroke=0, fill=1)
    band.drawOn(canvas, sheet.left, sheet.bottom)


def _verification_band(sheet: _Sheet, doc: CertificateDocument, layout: Layout) -> Table:
    qr_column = QR_SIZE + 2 * PAD
    rows = _verification_rows(sheet.styles, doc, layout, sheet.width - qr_column - PAD)
    return Table(
        rows,
        colWidths=[qr_column, sheet.width - qr_column],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (0, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), PAD),
                ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * MM),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * MM),
                *(
                    [("SPAN", (0, 1), (1, 1)), ("TOPPADDING", (0, 1), (1, 1), 0)]
                    if len(rows) > 1
                    else []
                ),
            ]
        ),
    )


def _verification_rows(
    styles: _Styles, doc: CertificateDocument, layout: Layout, width: float
) -> list[list[object]]:
    """On A4 everything fits beside the QR; on A5 the codes are stacked beside it and the
    instructions run across a second row."""
    qr = [_QrCode(doc.verify_url, QR_SIZE), _caption(styles, pmsg("certificate", "扫码验证"))]
    # No built-in quiet zone, so the bars line up with the text; the cell padding and the
    # QR column leave more than the 10 blank modules a scanner needs on either side.
    barcode = Code128(
        doc.number,
        barWidth=BARCODE_MODULE,
        barHeight=BARCODE_HEIGHT,
        humanReadable=False,
        quiet=False,
    )
    number = [
        _label(styles, pmsg("certificate", "证书编号")),
        barcode,
        _token(doc.number, styles.number),
    ]
    check_code = [
        _label(styles, pmsg("certificate", "校验码")),
        _token(doc.check_code, styles.check_code),
    ]
    small_print = f"规则版本 Rule version {doc.rule_version}  ·  密钥 Key ID {doc.kid}"
    how_to_verify = [
        _Text(layout.footer.zh, styles.note_zh),
        _Text(layout.footer.en, styles.note_en),
        # The address breaks only before its query parameters, each kept whole.
        _Text(doc.verify_url, styles.url, re.split(r"(?=[?&])", doc.verify_url)),
        _Text(small_print, styles.note_en),
    ]
    if width < barcode.width + CHECK_CODE_COLUMN:
        return [[qr, [*number, Spacer(0, 2 * MM), *check_code]], [how_to_verify, ""]]
    codes = Table([[number, check_code]], colWidths=[barcode.width + 8 * MM, None], style=_TIGHT)
    return [[qr, [codes, Spacer(0, 2.5 * MM), *how_to_verify]]]


@dataclass(frozen=True)
class _BodyPage:
    """One page's body: a column drawn from the top, and on the last page the closing (the
    signatures, the seal) at the foot."""

    opening: Table | None
    closing: Table | None


def _body_pages(
    styles: _Styles, doc: CertificateDocument, layout: Layout, width: float, height: float
) -> list[_BodyPage]:
    """Photo, results, conclusion and laboratory at the top; signatures and the lab's wording
    at the foot. What does not fit one page at `READABLE_SCALE` continues on the next: the
    first page keeps the photo, the first result rows, the conclusion and the laboratory; the
    result rows left over follow (检验结果（续）) with the closing after the last of them."""
    rows = _result_rows(styles, doc)
    closing = _column(_closing(styles, doc, layout, width), width)
    closing_height = _height(closing, width)

    def opening(count: int) -> Table:
        return _column(_opening(styles, doc, layout, width, rows[:count]), width)

    whole = opening(len(rows))
    if _height(whole, width) + PAD + closing_height <= height / READABLE_SCALE:
        return [_BodyPage(whole, closing)]
    # Page one with as many rows as fit (the name and the item code at least).
    room = height / READABLE_SCALE
    taken = _most_rows(lambda count: _height(opening(count), width) <= room, 2, len(rows))
    pages = [_BodyPage(opening(taken), None)]
    rest = rows[taken:]
    while rest:

        def continued(count: int, left: list[list[object]] = rest) -> Table:
            return _column(_results(styles, left[:count], width, continued=True), width)

        if _height(continued(len(rest)), width) + PAD + closing_height <= room:
            return [*pages, _BodyPage(continued(len(rest)), closing)]
        count = _most_rows(lambda count: _height(continued(count), width) <= room, 1, len(rest))
        pages.append(_BodyPage(continued(count), None))
        rest = rest[count:]
    return [*pages, _BodyPage(None, closing)]


def _most_rows(fits: Callable[[int], bool], least: int, most: int) -> int:
    """The largest count in [least, most] that `fits` (heights grow with the count), or least."""
    while least < most:
        middle = (least + most + 1) // 2
        if fits(middle):
            least = middle
        else:
            most = middle - 1
    return least


def _height(flowable: Flowable, width: float) -> float:
    return float(flowable.wrap(width, 1e6)[1])


def _draw_body(sheet: _Sheet, page: _BodyPage, *, top: float, bottom: float) -> None:
    """A body too tall for the page is scaled down as a whole about the page's centre line, so
    it stays centred and aligned with the header and band; it never overflows."""
    canvas = sheet.canvas
    width, height = sheet.width - 2 * PAD, top - bottom
    opening_height = _height(page.opening, width) if page.opening else 0.0
    closing_height = _height(page.closing, width) if page.closing else 0.0
    needed = opening_height + (PAD + closing_height if page.closing else 0.0)
    scale = min(1.0, height / needed)
    canvas.saveState()
    canvas.translate(sheet.left + PAD + width * (1 - scale) / 2, bottom)
    canvas.scale(scale, scale)
    if page.closing:
        page.closing.drawOn(canvas, 0, 0)
    if page.opening:
        page.opening.drawOn(canvas, 0, height / scale - opening_height)
    canvas.restoreState()


def _column(story: list[Flowable], width: float) -> Table:
    # A fixed-width box, so that shrinking scales its content instead of re-flowing it wider.
    return Table([[story]], colWidths=[width], style=_TIGHT)


def _closing(
    styles: _Styles, doc: CertificateDocument, layout: Layout, width: float
) -> list[Flowable]:
    standards = (
        [
            _Text(layout.standards.zh, styles.note_zh),
            _Text(layout.standards.en, styles.note_en),
            Spacer(0, 3 * MM),
        ]
        if layout.standards
        else []
    )
    if layout.seal is None:
        return [
            *standards,
            _signatures(styles, doc, width),
            Spacer(0, 3 * MM),
            *_lab_lines(styles, layout),
        ]
    # The seal has a column of its own beside the signatures: it covers no text.
    seal = _SealMark(layout.seal, doc.testing_body_zh, styles.cjk)
    left = width - seal.width
    signed = [_signatures(styles, doc, left), Spacer(0, 3 * MM), *_lab_lines(styles, layout)]
    beside = Table(
        [[signed, seal]],
        colWidths=[left, seal.width],
        style=TableStyle([*_TIGHT.getCommands(), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]),
    )
    return [*standards, beside]


def _opening(
    styles: _Styles,
    doc: CertificateDocument,
    layout: Layout,
    width: float,
    rows: list[list[object]],
) -> list[Flowable]:
    photo_width = width * 0.38
    results_width = width - photo_width - 6 * MM
    main = Table(
        [
            [
                _photo(styles, doc.photo_jpeg, photo_width, doc.no_photo),
                _results(styles, rows, results_width),
            ]
        ],
        colWidths=[width - results_width, results_width],
        style=_TIGHT,
    )
    return [
        main,
        Spacer(0, 4 * MM),
        _conclusion(styles, doc, width),
        Spacer(0, 4 * MM),
        _heading(styles, pmsg("certificate heading", "检测机构")),
        _laboratory(styles, doc, layout, width),
    ]


def _photo(
    styles: _Styles, jpeg: bytes | None, width: float, why: Message | None = None
) -> list[Flowable]:
    height = width
    if jpeg is None:
        zh, en = _both(why or pmsg("certificate", "无照片"))
        # The inspector's note may be Chinese in the English line too: Helvetica cannot draw it.
        english = (
            _latin(escape(en), 7, styles.muted)
            if en.isascii()
            else f"<font size='7'>{escape(en)}</font>"
        )
        content: Flowable = Paragraph(f"{escape(zh)}<br/>{english}", styles.caption)
    else:
        reader = ImageReader(io.BytesIO(jpeg))
        pixel_width, pixel_height = reader.getSize()
        scale = min((width - 4 * MM) / pixel_width, (height - 4 * MM) / pixel_height)
        content = ImageFlowable(
            io.BytesIO(jpeg), width=pixel_width * scale, height=pixel_height * scale
        )
    frame = Table(
        [[content]],
        colWidths=[width],
        rowHeights=[height],
        style=TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.6, _tint(styles.muted, 0.5)),
                ("BACKGROUND", (0, 0), (-1, -1), _tint(styles.primary, 0.04)),
            ]
        ),
    )
    return [_heading(styles, pmsg("certificate heading", "样品照片")), frame]


def _result_rows(styles: _Styles, doc: CertificateDocument) -> list[list[object]]:
    return [
        _row(styles, _both(pmsg("certificate", "名称")), doc.item_name_zh, doc.item_name_en),
        _row(styles, _both(pmsg("certificate", "样品编号")), doc.item_code),
        *(
            _row(styles, (row.label_zh, row.label_en), row.value, row.value_en)
            for row in doc.measurements
        ),
        *([_row(styles, _both(pmsg("certificate", "备注")), doc.remarks)] if doc.remarks else []),
        _row(styles, _both(pmsg("certificate", "商家")), doc.merchant_name),
        _row(styles, _both(pmsg("certificate", "商品")), doc.listing_title),
    ]


def _results(
    styles: _Styles, rows: list[list[object]], width: float, *, continued: bool = False
) -> list[Flowable]:
    label_width = 31 * MM
    table = Table(
        rows,
        colWidths=[label_width, width - label_width],
        style=_ruled(styles, label_cells=[((0, 0), (0, -1))]),
    )
    heading = (
        pmsg("certificate heading", "检验结果（续）")
        if continued
        else pmsg("certificate heading", "检验结果")
    )
    return [_heading(styles, heading), table]


def _conclusion(styles: _Styles, doc: CertificateDocument, width: float) -> Table:
    label_width = 30 * MM
    text = [
        _Text(doc.conclusion_zh, styles.conclusion_zh),
        _Text(doc.conclusion_en, styles.value_en),
    ]
    return Table(
        [[_bilingual_label(styles, *_both(pmsg("certificate", "检验结论"))), text]],
        colWidths=[label_width, width - label_width],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, -1), _tint(styles.accent, 0.12)),
                ("LINEBEFORE", (0, 0), (0, 0), 3, styles.accent),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )


def _laboratory(styles: _Styles, doc: CertificateDocument, layout: Layout, width: float) -> Table:
    """The laboratory's table, with the layout's accreditation marks drawn beside it."""
    # ILAC-MRA rides on CNAS accreditation: without a CNAS number neither mark is shown.
    numbers = {
        "CMA": doc.cma_no,
        "CNAS": doc.cnas_no,
        "ILAC-MRA": "国际互认 MRA" if doc.cnas_no else None,
    }
    marks = [(mark, number) for mark in layout.accreditation_marks if (number := numbers[mark])]
    if not marks:
        return _laboratory_table(styles, doc, width)
    badges = _Badges(styles, marks)
    table_width = width - badges.width - 4 * MM
    return Table(
        [[_laboratory_table(styles, doc, table_width), badges]],
        colWidths=[table_width + 4 * MM, badges.width],
        style=TableStyle([*_TIGHT.getCommands(), ("VALIGN", (1, 0), (1, 0), "MIDDLE")]),
    )


def _laboratory_table(styles: _Styles, doc: CertificateDocument, width: float) -> Table:
    """Testing body, CMA and, for an accredited lab, CNAS: one row each, so that a long
    accreditation number keeps the whole value column (it is never broken)."""
    label_width = 24 * MM
    rows = [
        [
            _bilingual_label(styles, *_both(pmsg("certificate", "检测机构"))),
            [
                _value(styles, doc.testing_body_zh),
                _value(styles, doc.testing_body_en, english=True),
            ],
        ],
        [
            _bilingual_label(styles, *_both(pmsg("certificate", "资质认定"))),
            _token(doc.cma_no, styles.value_zh),
        ],
    ]
    if doc.cnas_no:
        rows.append(
            [
                _bilingual_label(styles, *_both(pmsg("certificate", "实验室认可"))),
                _token(doc.cnas_no, styles.value_zh),
            ]
        )
    style = _ruled(styles, label_cells=[((0, 0), (0, -1))])
    return Table(rows, colWidths=[label_width, width - label_width], style=style)


def _ruled(styles: _Styles, *, label_cells: list[tuple[Cell, Cell]]) -> TableStyle:
    """Heavy rules above and below, hairlines between rows, shaded label cells."""
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEABOVE", (0, 0), (-1, 0), 1, styles.primary),
            ("LINEBELOW", (0, 0), (-1, -2), 0.3, _tint(styles.muted, 0.35)),
            ("LINEBELOW", (0, -1), (-1, -1), 1, styles.primary),
            *(
                ("BACKGROUND", start, end, _tint(styles.primary, 0.05))
                for start, end in label_cells
            ),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ]
    )


def _signatures(styles: _Styles, doc: CertificateDocument, width: float) -> Table:
    """Who tested, who reviewed, when issued: names over a rule, as a lab report signs off."""
    columns = [
        (pmsg("certificate", "检测员"), doc.analyst_name),
        (pmsg("certificate", "审核员"), doc.reviewer_name),
        (pmsg("certificate", "签发日期"), _issue_date(doc)),
    ]
    gap = 12 * MM
    column_width = (width - gap * (len(columns) - 1)) / len(columns)
    names: list[object] = []
    labels: list[object] = []
    for label, value in columns:
        names += [_value(styles, value), ""]
        labels += [_label(styles, label), ""]
    return Table(
        [names[:-1], labels[:-1]],
        colWidths=[column_width, gap] * (len(columns) - 1) + [column_width],
        style=TableStyle(
            [
                *(
                    ("LINEBELOW", (column, 0), (column, 0), 0.6, styles.muted)
                    for column in range(0, len(names), 2)
                ),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 3),
                ("TOPPADDING", (0, 1), (-1, 1), 2),
            ]
        ),
    )


def _lab_lines(styles: _Styles, layout: Layout) -> list[Flowable]:
    return [
        text
        for line in layout.lab_lines
        for text in (_Text(line.zh, styles.note_en), _Text(line.en, styles.note_en))
    ]


def _row(
    styles: _Styles, label: tuple[str, str], value_zh: str, value_en: str = ""
) -> list[object]:
    value: list[Flowable] = [_value(styles, value_zh)]
    if value_en:
        value.append(_value(styles, value_en, english=True))
    return [_bilingual_label(styles, *label), value]


def _value(styles: _Styles, text: str, *, english: bool = False) -> Flowable:
    return _Text(text, styles.value_en if english else styles.value_zh)


def _token(text: str, style: ParagraphStyle) -> Flowable:
    """A number or code: always on one line, made smaller if the column is too narrow."""
    return _Text(text, style, [text])


def _both(label: Message) -> tuple[str, str]:
    """The certificate prints both languages: a fixed label in Chinese, then in English."""
    return label.render("zh"), label.render("en")


def _bilingual_label(styles: _Styles, zh: str, en: str) -> list[Flowable]:
    """A label in both languages, ours (`_both`) or a layout's or the rules' data."""
    return [Paragraph(zh, styles.label_zh), Paragraph(en, styles.label_en)]


def _label(styles: _Styles, label: Message) -> Paragraph:
    zh, en = _both(label)
    return Paragraph(f"{zh} {_latin(en, 6.5, styles.muted)}", styles.inline_label)


def _caption(styles: _Styles, label: Message) -> Paragraph:
    zh, en = _both(label)
    return Paragraph(f"{zh} {_latin(en, 6, styles.muted)}", styles.caption)


def _heading(styles: _Styles, label: Message) -> Paragraph:
    zh, en = _both(label)
    return Paragraph(f"{zh}  {_latin(en.upper(), 7.5, styles.muted)}", styles.heading)


def _latin(text: str, size: float, colour: Color) -> str:
    """Paragraph markup for a fixed English label set in Helvetica."""
    return f"<font name='{LATIN}' size='{size}' color='{colour.hexval()}'>{text}</font>"


def _tint(colour: Color, strength: float) -> Color:
    """`colour` mixed with white: strength 1 is the colour itself, 0 is white."""
    return Color(*(1 - strength * (1 - channel) for channel in colour.rgb()))


_TIGHT = TableStyle(
    [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]
)


def _measure(font: str, size: float) -> Callable[[str], float]:
    return lambda text: float(stringWidth(text, font, size))


class _Text(Flowable):  # type: ignore[misc]
    """Plain text (never markup) in a style's font, size, leading and colour, broken into lines
    only between `pieces` (by default at spaces and CJK characters: `wrap.units`). A piece wider
    than the line makes the whole text smaller rather than cutting it."""

    def __init__(self, text: str, style: ParagraphStyle, pieces: list[str] | None = None) -> None:
        super().__init__()
        self.style = style
        self.pieces = pieces if pieces is not None else wrap.units(text)
        self.size, self.lines = float(style.fontSize), [text]

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        font = self.style.fontName
        size = float(self.style.fontSize)
        while True:
            lines = wrap.fit_lines(self.pieces, _measure(font, size), available_width)
            if lines is not None or size <= 2:
                break
            size -= 0.25
        self.size, self.lines = size, lines or ["".join(self.pieces)]
        self.leading = self.style.leading * size / self.style.fontSize
        self.width, self.height = available_width, self.leading * len(self.lines)
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(self.style.fontName, self.size)
        canvas.setFillColor(self.style.textColor)
        for index, line in enumerate(self.lines):
            baseline = self.height - index * self.leading - self.size
            if self.style.alignment == TA_CENTER:
                canvas.drawCentredString(self.width / 2, baseline, line)
            else:
                canvas.drawString(0, baseline, line)


class _QrCode(Flowable):  # type: ignore[misc]
    """The QR as vector squares, one rectangle per run of dark modules in a row."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.matrix = qr_matrix(data)
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setFillColor(white)
        self.canv.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        module = self.width / len(self.matrix)
        path = self.canv.beginPath()
        for row_index, row in enumerate(self.matrix):
            y = self.height - (row_index + 1) * module
            for start, length in _dark_runs(row):
                path.rect(start * module, y, length * module, module)
        self.canv.setFillColor(black)
        self.canv.drawPath(path, stroke=0, fill=1)


def _dark_runs(row: list[bool]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for index, dark in enumerate([*row, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append((start, index - start))
            start = None
    return runs


def _draw_emblem(sheet: _Sheet, emblem: Emblem, left: float, bottom: float, size: float) -> None:
    """The layout's logo as vectors: white and the accent colour on the header band."""
    canvas, styles = sheet.canvas, sheet.styles
    cx, cy, radius = left + size / 2, bottom + size / 2, size / 2
    canvas.saveState()
    canvas.setStrokeColor(_tint(styles.accent, 0.9))
    if emblem.shape == "ring":
        canvas.setLineWidth(1.6)
        canvas.circle(cx, cy, radius - 0.8, stroke=1, fill=0)
        canvas.setLineWidth(0.5)
        canvas.circle(cx, cy, radius - 2.6, stroke=1, fill=0)
        # A small four-point sparkle above the lettering.
        canvas.setFillColor(_tint(styles.accent, 0.9))
        _sparkle(canvas, cx, cy + radius * 0.45, radius * 0.16)
        text_y = cy - radius * 0.28
    else:
        _gem_outline(canvas, cx, cy + radius * 0.2, radius * 0.95, radius * 0.8)
        text_y = bottom + 0.5 * MM
    canvas.setFillColor(white)
    font_size = min(size * 0.34, size * 1.5 / max(len(emblem.text), 1))
    canvas.setFont("Helvetica-Bold", font_size)
    canvas.drawCentredString(cx, text_y, emblem.text)
    canvas.restoreState()


def _sparkle(canvas: Canvas, x: float, y: float, r: float) -> None:
    path = canvas.beginPath()
    path.moveTo(x, y + r)
    for dx, dy in ((0.22, 0.22), (1, 0), (0.22, -0.22), (0, -1), (-0.22, -0.22), (-1, 0)):
        path.lineTo(x + dx * r, y + dy * r)
    path.lineTo(x - 0.22 * r, y + 0.22 * r)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def _gem_outline(canvas: Canvas, cx: float, cy: float, width: float, height: float) -> None:
    """A brilliant-cut gem seen from the side: table, crown facets and pavilion."""
    half = width / 2
    table_half, girdle_y, table_y, culet_y = (
        half * 0.5,
        cy + height * 0.1,
        cy + height * 0.45,
        (cy - height * 0.55),
    )
    canvas.setLineWidth(0.9)
    outline = canvas.beginPath()
    outline.moveTo(cx - table_half, table_y)
    outline.lineTo(cx + table_half, table_y)
    outline.lineTo(cx + half, girdle_y)
    outline.lineTo(cx, culet_y)
    outline.lineTo(cx - half, girdle_y)
    outline.close()
    canvas.drawPath(outline, stroke=1, fill=0)
    canvas.setLineWidth(0.4)
    canvas.line(cx - half, girdle_y, cx + half, girdle_y)
    for x in (-table_half, -table_half / 3, table_half / 3, table_half):
        canvas.line(cx + x, table_y, cx + x * 1.6 if abs(x) < table_half else cx + x, girdle_y)
        canvas.line(cx + x * 1.6 if abs(x) < table_half else cx + x, girdle_y, cx, culet_y)


class _Badges(Flowable):  # type: ignore[misc]
    """Accreditation marks as stamped boxes side by side: the mark in bold, its number below."""

    BOX_WIDTH = 21 * MM
    BOX_HEIGHT = 13 * MM
    GAP = 2 * MM

    def __init__(self, styles: _Styles, marks: list[tuple[str, str]]) -> None:
        super().__init__()
        self.styles, self.marks = styles, marks
        self.width = len(marks) * self.BOX_WIDTH + (len(marks) - 1) * self.GAP
        self.height = self.BOX_HEIGHT

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas, styles = self.canv, self.styles
        for index, (mark, number) in enumerate(self.marks):
            x = index * (self.BOX_WIDTH + self.GAP)
            canvas.setStrokeColor(styles.primary)
            canvas.setLineWidth(1)
            canvas.roundRect(x, 0, self.BOX_WIDTH, self.BOX_HEIGHT, 1.5 * MM, stroke=1, fill=0)
            canvas.setFillColor(styles.primary)
            canvas.setFont("Helvetica-Bold", 12 if len(mark) <= 4 else 9)
            canvas.drawCentredString(x + self.BOX_WIDTH / 2, 6 * MM, mark)
            canvas.setFillColor(styles.muted)
            size = 5.5
            while canvas.stringWidth(number, styles.cjk, size) > self.BOX_WIDTH - 2 * MM:
                size -= 0.25
            canvas.setFont(styles.cjk, size)
            canvas.drawCentredString(x + self.BOX_WIDTH / 2, 2.2 * MM, number)


class _SealMark(Flowable):  # type: ignore[misc]
    """The red testing seal in a box of its own: the lab's whole name runs round the ring (as
    the testing body's record spells it), smaller for a longer name, never cut short."""

    RADIUS = 17 * MM
    # Degrees of the ring the name may take: the rest, at the foot, is the seal's own words'.
    MAX_SWEEP = 250.0
    SPACING = 1.15  # arc per character, in font sizes: sizing and drawing use the same

    def __init__(self, seal: Seal, body_name: str, cjk: str) -> None:
        super().__init__()
        self.seal, self.body_name, self.cjk = seal, body_name, cjk
        self.width = 2 * self.RADIUS + 4 * MM
        self.height = 2 * self.RADIUS + 2 * MM

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def _name_size(self) -> float:
        """The largest size (at most 10 pt) at which each character has its own arc."""
        gaps = max(len(self.body_name) - 1, 1)
        size = 10.0
        while size > 2 and (
            math.radians(self.MAX_SWEEP) * (self.RADIUS - size - 2.2) / gaps < size * self.SPACING
        ):
            size -= 0.25
        return size

    def draw(self) -> None:
        canvas, radius = self.canv, self.RADIUS
        cx, cy = self.width / 2, self.height / 2
        colour = HexColor(self.seal.colour)
        canvas.saveState()
        canvas.setFillAlpha(0.82)
        canvas.setStrokeAlpha(0.82)
        canvas.setStrokeColor(colour)
        canvas.setFillColor(colour)
        canvas.setLineWidth(1.8)
        canvas.circle(cx, cy, radius, stroke=1, fill=0)
        _star(canvas, cx, cy, radius * 0.24)
        cjk = self.cjk
        # Small and low enough that the ends of the name's arc pass beside it, not into it.
        canvas.setFont(cjk, 8)
        canvas.drawCentredString(cx, cy - radius * 0.55, self.seal.zh)
        name = self.body_name
        size = self._name_size()
        canvas.setFont(cjk, size)
        step = min(size * self.SPACING * 180 / (math.pi * (radius - size - 2.2)), 19.0)
        sweep = step * (len(name) - 1)
        for index, char in enumerate(name):
            angle = 90 + sweep / 2 - index * step
            canvas.saveState()
            canvas.translate(cx, cy)
            canvas.rotate(angle - 90)
            canvas.drawCentredString(0, radius - size - 2.2, char)
            canvas.restoreState()
        canvas.restoreState()


def _star(canvas: Canvas, x: float, y: float, r: float) -> None:
    path = canvas.beginPath()
    for point in range(10):
        reach = r if point % 2 == 0 else r * 0.4
        angle = math.pi / 2 + point * math.pi / 5
        px, py = x + reach * math.cos(angle), y + reach * math.sin(angle)
        if point == 0:
            path.moveTo(px, py)
        else:
            path.lineTo(px, py)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_watermark(sheet: _Sheet, text: str, top: float, bottom: float) -> None:
    """The lab's mark repeated faintly across the body: a photocopy or a paste-up shows."""
    canvas = sheet.canvas
    canvas.saveState()
    path = canvas.beginPath()
    path.rect(sheet.left, bottom, sheet.width, top - bottom)
    canvas.clipPath(path, stroke=0, fill=0)
    canvas.setFillColor(_tint(sheet.styles.primary, 0.03))
    canvas.setFont("Helvetica-Bold", 18)
    canvas.translate(sheet.left, bottom)
    canvas.rotate(30)
    step_x, step_y = 42 * MM, 24 * MM
    width, height = sheet.width, top - bottom
    cos, sin = math.cos(math.radians(30)), math.sin(math.radians(30))
    reach = canvas.stringWidth(text, "Helvetica-Bold", 18)
    for row in range(-12, 16):
        offset = (row % 2) * step_x / 2
        for column in range(-6, 12):
            x, y = column * step_x + offset, row * step_y
            # Only the marks that land inside the clipped body (page coordinates).
            page_x, page_y = x * cos - y * sin, x * sin + y * cos
            if -reach <= page_x <= width and -reach <= page_y <= height:
                canvas.drawString(x, y, text)
    canvas.restoreState()
