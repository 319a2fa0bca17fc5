"""Claim evidence: photos are re-encoded without metadata (uploads.clean_image); PDFs (a lab's
or a brand owner's report) are kept byte for byte, the lab's signature intact, but only when
nothing in them acts on the reader's machine (claims.pdfguard: scripts, links, attachments,
forms, media, any action) and they parse.

Pure: bytes in, checked bytes out; no Flask, no session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from qc_app.claims import pdfguard
from qc_app.errors import ValidationFailed
from qc_app.uploads import clean_image

MAX_FILES = 6
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 50
# What the consumer can do instead: a photo or screenshot carries the report's content and is
# re-encoded, so nothing active survives.
REMEDY = ("请改为上传报告的照片或截图", "upload photos or screenshots of the report instead")


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    kind: str  # "jpg" or "pdf"
    original_sha256: str


def _refuse_pdf(en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(
        f"PDF 证据无效：{zh}；{REMEDY[0]}", f"PDF evidence refused: {en}; {REMEDY[1]}"
    )


def check_pdf(data: bytes) -> CheckedFile:
    if len(data) > MAX_PDF_BYTES:
        raise _refuse_pdf("larger than 10 MB", "超过 10 MB")
    if not data.startswith(b"%PDF-"):
        raise _refuse_pdf("not a PDF file", "不是 PDF 文件")
    try:
        pages = pdfguard.inspect(data)
    except pdfguard.PdfRefused as exc:
        zh, en = pdfguard.REASONS[exc.reason]
        raise _refuse_pdf(en, zh) from exc
    if not 1 <= pages <= MAX_PDF_PAGES:
        raise _refuse_pdf(f"it must have 1–{MAX_PDF_PAGES} pages", f"页数须为 1–{MAX_PDF_PAGES}")
    return CheckedFile(data, "pdf", hashlib.sha256(data).hexdigest())


def check_file(data: bytes) -> CheckedFile:
    """A PDF is checked as a PDF; anything else must be an image and is re-encoded."""
    if data.startswith(b"%PDF-"):
        return check_pdf(data)
    image = clean_image(data)
    return CheckedFile(image.jpeg, "jpg", image.original_sha256)


def check_files(files: list[bytes]) -> list[CheckedFile]:
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise ValidationFailed(
            f"最多上传 {MAX_FILES} 个证据文件", f"at most {MAX_FILES} evidence files"
        )
    return [check_file(f) for f in files]
