"""The certificate PDF: readable bilingual text, embedded font, scannable codes, and the signed
payload carried inside; plus the layout files and font lookup it depends on."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from qc_app.certificates import fonts
from qc_app.certificates.fonts import FontMissing, find_cjk_font, register_cjk_font
from qc_app.certificates.layout import Layout, LayoutInvalid, load_layout
from qc_app.certificates.pdf import (
    SIGNATURE_ATTACHMENT,
    CertificateDocument,
    EmbeddedPayload,
    PayloadMissing,
    read_embedded_payload,
    render_certificate_pdf,
)
from qc_app.certificates.properties import PropertyRow

pytestmark = pytest.mark.cjk_font

CERTIFICATES_DIR = Path(__file__).resolve().parents[2] / "certificates"
DEFAULT_LAYOUT = CERTIFICATES_DIR / "default" / "layout.json"
VERIFY_URL = (
    "https://verify.qc.example.cn/v/GTC-7K3M9Q2XW4HD5?k=qc-2026-01&s="
    "3q2-7wFhZk9wQx3_LmN0pQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
)


def jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def make_document(**overrides: Any) -> CertificateDocument:
    fields: dict[str, Any] = {
        "number": "GTC-7K3M9Q2XW4HD5",
        "check_code": "K7QM-2XWP",
        "verify_url": VERIFY_URL,
        # 17:30 UTC is 01:30 the next day in Shanghai: the date printed is the 22nd.
        "issued_at": datetime(2026, 11, 21, 17, 30, tzinfo=UTC),
        "item_code": "IT-2026-000123",
        "item_name_zh": "足金戒指",
        "item_name_en": "Gold 999 ring",
        "conclusion_zh": "合格：检测结果与申报一致",
        "conclusion_en": "Pass: results match the declaration",
        "measurements": (
            PropertyRow("总质量", "Total mass", "10.02 g"),
            PropertyRow("形状", "Shape", "—"),
            PropertyRow("颜色", "Colour", "—"),
            PropertyRow("金含量", "Fineness", "999.2‰"),
            PropertyRow("印记", "Stamp", "足金 999"),
        ),
        "merchant_name": "金福珠宝旗舰店",
        "listing_title": "足金999素圈戒指 经典光面",
        "testing_body_zh": "华南珠宝玉石检测中心",
        "testing_body_en": "South China Gem Testing Center",
        "cma_no": "2019000123Z",
        "cnas_no": "CNAS L1234",
        "analyst_name": "李晓明",
        "reviewer_name": "王芳",
        "photo_jpeg": jpeg(),
        "rule_version": "rules-2026.11.1",
        "kid": "qc-2026-01",
        "payload_json": b'{"number":"GTC-7K3M9Q2XW4HD5","mass_cg":1002}',
        "signature_b64": "3q2-7wFhZk9wQx3_LmN0pQrStUvWxYz",
    }
    return CertificateDocument(**(fields | overrides))


def write_layout(folder: Path, **changes: Any) -> Path:
    """A copy of the default layout with top-level keys replaced (None removes a key)."""
    data = json.loads(DEFAULT_LAYOUT.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def decode_barcodes(pdf: bytes, *, dpi: int = 200) -> dict[zxingcpp.BarcodeFormat, str]:
    with pdfium.PdfDocument(pdf) as document:
        image = document[0].render(scale=dpi / 72).to_pil()
    return {result.format: result.text for result in zxingcpp.read_barcodes(image)}


@pytest.fixture(scope="module")
def layout() -> Layout:
    return load_layout(CERTIFICATES_DIR, None)


@pytest.fixture(scope="module")
def render(cjk_font_path: Path, layout: Layout) -> Callable[..., bytes]:
    def render(doc: CertificateDocument | None = None, page_layout: Layout | None = None) -> bytes:
        return render_certificate_pdf(
            doc or make_document(), page_layout or layout, font_path=cjk_font_path
        )

    return render


@pytest.fixture(scope="module")
def pdf(render: Callable[..., bytes]) -> bytes:
    return render()


@pytest.fixture(scope="module")
def page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


# -- what the page says -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        "珠宝玉石鉴定证书",
        "JEWELLERY IDENTIFICATION CERTIFICATE",
        "GTC-7K3M9Q2XW4HD5",
        "K7QM-2XWP",
        "足金戒指",
        "Gold 999 ring",
        "10.02 g",
        "999.2‰",
        "合格：检测结果与申报一致",
        "Pass: results match the declaration",
        "金福珠宝旗舰店",
        "华南珠宝玉石检测中心",
        "South China Gem Testing Center",
        "2019000123Z",
        "CNAS L1234",
        "李晓明",
        "王芳",
        "rules-2026.11.1",
    ],
)
def test_page_text_includes(page_text: str, expected: str) -> None:
    assert expected in page_text


def test_issue_date_is_printed_in_shanghai_time(page_text: str) -> None:
    assert "2026-11-22" in page_text
    assert "2026-11-21" not in page_text


def test_missing_photo_shows_a_placeholder(render: Callable[..., bytes]) -> None:
    pdf = render(make_document(photo_jpeg=None))

    assert "无照片" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_naive_issue_time_is_refused(render: Callable[..., bytes]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render(make_document(issued_at=datetime(2026, 11, 21, 17, 30)))


def test_metadata_names_the_certificate(pdf: bytes) -> None:
    metadata = PdfReader(io.BytesIO(pdf)).metadata

    assert metadata is not None
    assert metadata.title == "GTC-7K3M9Q2XW4HD5"
    assert "GTC-7K3M9Q2XW4HD5" in (metadata.subject or "")


def test_cjk_font_is_embedded_as_a_subset(pdf: bytes) -> None:
    font_resources = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    embedded = [
        str(font["/BaseFont"])
        for font in (reference.get_object() for reference in font_resources.values())
        if "/FontDescriptor" in font and "/FontFile2" in font["/FontDescriptor"]
    ]

    assert embedded
    assert all("+WenQuanYi" in name for name in embedded)


# -- what a scanner reads -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def a5_layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    folder = write_layout(tmp_path_factory.mktemp("a5") / "default", page_size="A5")
    return load_layout(folder.parent, None)


@pytest.mark.parametrize("page", ["A4", "A5"])
def test_qr_decodes_to_the_verify_url(
    render: Callable[..., bytes], a5_layout: Layout, page: str
) -> None:
    pdf = render(page_layout=a5_layout if page == "A5" else None)

    assert decode_barcodes(pdf)[zxingcpp.BarcodeFormat.QRCode] == VERIFY_URL


@pytest.mark.parametrize("page", ["A4", "A5"])
def test_code128_decodes_to_the_number(
    render: Callable[..., bytes], a5_layout: Layout, page: str
) -> None:
    pdf = render(page_layout=a5_layout if page == "A5" else None)

    assert decode_barcodes(pdf)[zxingcpp.BarcodeFormat.Code128] == "GTC-7K3M9Q2XW4HD5"


# -- the signed payload inside ------------------------------------------------------------------


def test_embedded_payload_is_exactly_what_was_signed(pdf: bytes) -> None:
    doc = make_document()

    assert read_embedded_payload(pdf) == EmbeddedPayload(
        payload_json=doc.payload_json, signature_b64=doc.signature_b64, kid=doc.kid
    )


def test_signature_attachment_names_algorithm_and_key(pdf: bytes) -> None:
    attachment = PdfReader(io.BytesIO(pdf)).attachments[SIGNATURE_ATTACHMENT]

    assert json.loads(attachment[0]) == {
        "alg": "EdDSA",
        "kid": "qc-2026-01",
        "signature": "3q2-7wFhZk9wQx3_LmN0pQrStUvWxYz",
    }


def test_pdf_without_attachments_has_no_payload() -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "GTC-7K3M9Q2XW4HD5")
    canvas.save()

    with pytest.raises(PayloadMissing, match=r"qc-payload\.json"):
        read_embedded_payload(buffer.getvalue())


def test_bytes_that_are_not_a_pdf_have_no_payload() -> None:
    with pytest.raises(PayloadMissing, match="not a readable PDF"):
        read_embedded_payload(b"certificate, honest")


# -- layouts ------------------------------------------------------------------------------------


def test_default_layout_is_a4_with_the_bilingual_title(layout: Layout) -> None:
    assert (layout.page_size, layout.title.zh, layout.title.en) == (
        "A4",
        "珠宝玉石鉴定证书",
        "Jewellery Identification Certificate",
    )


def test_testing_body_layout_overrides_the_default(tmp_path: Path) -> None:
    write_layout(tmp_path / "default")
    write_layout(tmp_path / "GTC", page_size="A5")

    assert load_layout(tmp_path, "GTC").page_size == "A5"


def test_body_without_a_layout_falls_back_to_the_default(tmp_path: Path) -> None:
    write_layout(tmp_path / "default")

    assert load_layout(tmp_path, "NGTC").source == tmp_path / "default" / "layout.json"


def test_body_code_cannot_reach_outside_the_certificates_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot name a layout folder"):
        load_layout(tmp_path, "../secrets")


COLOURS = {"primary": "#1F3A5F", "accent": "#B08D57", "text": "#1C1C1C", "muted": "#6B7280"}
MARGINS = {"top": 10, "right": 10, "bottom": 10, "left": 10}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"colours": COLOURS | {"primary": "navy"}},
            r"layout\.json: colours\.primary must be a colour like #1F3A5F, got 'navy'",
        ),
        ({"footer": None}, r"layout\.json: missing key 'footer'"),
        ({"colour": COLOURS}, "unknown key 'colour'"),
        ({"page_size": "Letter"}, "page_size must be one of A4, A5"),
        ({"margins_mm": MARGINS | {"top": 2}}, r"margins_mm\.top must be between 6 and 30 mm"),
        ({"title": {"zh": "证书", "en": ""}}, r"title\.en must be non-empty text"),
        ({"logo": "logo.png"}, "logo file .* does not exist"),
        ({"logo": "../logo.png"}, "logo must be a file name in the layout's folder"),
    ],
    ids=[
        "bad-colour",
        "missing-key",
        "unknown-key",
        "page-size",
        "margin",
        "empty-text",
        "logo-missing",
        "logo-outside",
    ],
)
def test_invalid_layout_is_refused_naming_the_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    write_layout(tmp_path / "default", **changes)

    with pytest.raises(LayoutInvalid, match=message):
        load_layout(tmp_path, None)


# -- the font -----------------------------------------------------------------------------------


def test_configured_font_comes_first(tmp_path: Path) -> None:
    configured = tmp_path / "lab-font.ttf"
    configured.write_bytes(b"")

    assert find_cjk_font(str(configured)) == configured


def test_no_font_anywhere_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "DEBIAN_CJK_FONTS", ())

    with pytest.raises(FontMissing, match="install Debian's fonts-wqy-microhei or set QC_CJK_FONT"):
        find_cjk_font(str(tmp_path / "absent.ttc"))


def test_registering_twice_returns_the_same_font_name(cjk_font_path: Path) -> None:
    assert register_cjk_font(cjk_font_path) == register_cjk_font(cjk_font_path)


def test_documents_drawn_with_the_cjk_font_are_drawn_one_at_a_time(
    cjk_font_path: Path, layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reportlab's shared TTFont is not thread-safe (parallel saves raised KeyError in its
    subsetting): certificates and labels drawn from several threads must take turns."""
    from qc_app.certificates import pdf as certificate_pdf
    from qc_app.labels import pdf as label_pdf
    from qc_app.labels.data import ItemLabel

    drawing, most, count = [0], [0], threading.Lock()

    def one_of(draw: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with count:
                drawing[0] += 1
                most[0] = max(most[0], drawing[0])
            time.sleep(0.02)  # long enough for another thread to get in, if it could
            try:
                return draw(*args, **kwargs)
            finally:
                with count:
                    drawing[0] -= 1

        return counted

    monkeypatch.setattr(
        certificate_pdf, "_draw_certificate", one_of(certificate_pdf._draw_certificate)
    )
    monkeypatch.setattr(label_pdf, "_label", one_of(label_pdf._label))
    label = ItemLabel("QC7K3M9PX2A4Q", "AU990", "足金", "SJ4M2K8PQ3", "金福珠宝旗舰店")
    jobs: list[Callable[[], bytes]] = [
        lambda: render_certificate_pdf(make_document(), layout, font_path=cjk_font_path),
        lambda: label_pdf.labels_pdf([label], "60x40", cjk_font_path),
    ] * 3
    barrier = threading.Barrier(len(jobs))
    results: list[bytes] = []

    def run(job: Callable[[], bytes]) -> None:
        barrier.wait(timeout=30)
        results.append(job())

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == len(jobs) and all(r.startswith(b"%PDF") for r in results)
    assert most[0] == 1
