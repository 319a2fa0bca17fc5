"""Claim evidence files: PDFs are parsed and refused with active content; images re-encoded."""

from __future__ import annotations

import pytest

from qc_app.claims import evidence
from qc_app.errors import ValidationFailed
from tests.claims_support import pdf_bytes
from tests.conftest import jpeg_bytes


def test_plain_pdf_is_kept_as_sent() -> None:
    data = pdf_bytes()
    checked = evidence.check_file(data)
    assert (checked.kind, checked.data) == ("pdf", data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(pdf_bytes(javascript=True), id="open-action-javascript"),
        # Names written with #xx escapes hide from a byte search; the object walk decodes them.
        pytest.param(
            pdf_bytes(javascript=True)
            .replace(b"/JavaScript", b"/Java#53cript")
            .replace(b"/JS ", b"/J#53 "),
            id="escaped-names",
        ),
        pytest.param(
            pdf_bytes().replace(
                b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /Launch /F (calc.exe) >>"
            ),
            id="launch",
        ),
        pytest.param(b"%PDF-1.7\nthis is not a pdf", id="does-not-parse"),
        pytest.param(b"%PDF-" + b"0" * (evidence.MAX_PDF_BYTES + 1), id="too-large"),
    ],
)
def test_dangerous_or_broken_pdfs_are_refused(data: bytes) -> None:
    with pytest.raises(ValidationFailed):
        evidence.check_file(data)


def test_image_is_re_encoded_without_exif() -> None:
    checked = evidence.check_file(jpeg_bytes(exif_gps=True))
    assert checked.kind == "jpg" and b"Exif" not in checked.data


def test_html_renamed_as_image_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        evidence.check_file(b"<html><script>alert(1)</script></html>")


def test_at_most_six_files() -> None:
    with pytest.raises(ValidationFailed):
        evidence.check_files([jpeg_bytes()] * (evidence.MAX_FILES + 1))
