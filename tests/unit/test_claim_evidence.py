"""Claim evidence files: a PDF that would act on the reader's machine is refused with its reason,
in Chinese and English, however it hides; a clean report is kept byte for byte; images are
re-encoded."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pypdf import PdfWriter

from qc_app.certificates import pades, pki
from qc_app.claims import evidence, pdfguard
from qc_app.errors import ValidationFailed
from tests.conftest import jpeg_bytes
from tests.evidence_pdfs import ATTACKS, CLEAN, HOSTILE, lab_report

PASSPHRASE = "p" * 40


def refusal(data: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        evidence.check_file(data)
    return caught.value


def test_the_corpus_has_fifteen_or_more_attacks() -> None:
    assert len(ATTACKS) >= 15


@pytest.mark.parametrize(("make", "reason"), ATTACKS.values(), ids=ATTACKS.keys())
def test_active_pdf_is_refused_with_its_reason(make: Callable[[], bytes], reason: str) -> None:
    refused = refusal(make())
    assert isinstance(refused.__cause__, pdfguard.PdfRefused)
    assert refused.__cause__.reason == reason
    zh, en = pdfguard.REASONS[reason]
    assert zh in refused.message_zh and "照片或截图" in refused.message_zh
    assert en in refused.message_en and "photos or screenshots" in refused.message_en


@pytest.mark.no_cover  # timed: the coverage tracer's overhead is no part of what it times
@pytest.mark.parametrize(("make", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_structure_is_refused_within_a_second_or_two(
    make: Callable[[], bytes], reason: str
) -> None:
    """Files aimed at the checker itself. Before the budgets, a 20 KB file claiming two million
    cross-references took 18-30 s and 426 MB, shared page-tree kids gave a 500, and the
    number floods took 14-50 s."""
    data = make()
    started = time.perf_counter()
    refused = refusal(data)
    elapsed = time.perf_counter() - started
    assert isinstance(refused.__cause__, pdfguard.PdfRefused)
    assert refused.__cause__.reason == reason
    assert elapsed < 5, f"{elapsed:.1f} s"  # 0.05–1.7 s on the loaded 2-core test machine


@pytest.mark.parametrize("make", CLEAN.values(), ids=CLEAN.keys())
def test_clean_pdf_is_kept_byte_for_byte(make: Callable[[], bytes]) -> None:
    data = make()
    checked = evidence.check_file(data)
    assert (checked.kind, checked.data) == ("pdf", data)


def test_lab_report_signed_by_the_lab_is_kept_with_its_signature() -> None:
    """A signature is a form field with a widget, but no action: the report stays verifiable."""
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    ca = pki.new_ca(common_name="Test Platform CA", passphrase=PASSPHRASE, now=now)
    body = pki.issue_body_certificate(
        ca=ca, passphrase=PASSPHRASE, body_code="GTC", body_name="测试检测中心", now=now
    )
    signer = pades.PadesSigner(
        certificate_pem=body.certificate_pem,
        private_key_pem=body.private_key_pem,
        ca_pem=ca.certificate_pem,
        passphrase=PASSPHRASE,
    )
    signed = signer.sign(lab_report())
    checked = evidence.check_file(signed)
    assert checked.data == signed
    assert pades.validate(signed, trust_roots_pem=[ca.certificate_pem]).ok


def test_more_than_fifty_pages_is_refused() -> None:
    writer = PdfWriter()
    for _ in range(evidence.MAX_PDF_PAGES + 1):
        writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    assert "1–50" in refusal(out.getvalue()).message_en


def test_pdf_larger_than_ten_megabytes_is_refused() -> None:
    assert "10 MB" in refusal(b"%PDF-" + b"0" * evidence.MAX_PDF_BYTES).message_en


def test_image_is_re_encoded_without_exif() -> None:
    checked = evidence.check_file(jpeg_bytes(exif_gps=True))
    assert checked.kind == "jpg" and b"Exif" not in checked.data


def test_html_renamed_as_image_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        evidence.check_file(b"<html><script>alert(1)</script></html>")


def test_at_most_six_files() -> None:
    with pytest.raises(ValidationFailed):
        evidence.check_files([jpeg_bytes()] * (evidence.MAX_FILES + 1))
