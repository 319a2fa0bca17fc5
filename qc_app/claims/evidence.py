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
from qc_app.i18n import Message, msg
from qc_app.uploads import clean_image

MAX_FILES = 6
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 50
# What the consumer can do instead: a photo or screenshot carries the report's content and is
# re-encoded, so nothing active survives.
REMEDY = msg("请改为上传报告的照片或截图")


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    kind: str  # "jpg" or "pdf"
    original_sha256: str


def _refuse_pdf(reason: Message) -> ValidationFailed:
    return ValidationFailed(msg("PDF 证据无效：{reason}；{remedy}", reason=reason, remedy=REMEDY))


def check_pdf(data: bytes) -> CheckedFile:
    if len(data) > MAX_PDF_BYTES:
        raise _refuse_pdf(msg("超过 10 MB"))
    if not data.startswith(b"%PDF-"):
        raise _refuse_pdf(msg("不是 PDF 文件"))
    try:
        pages = pdfguard.inspect(data)
    except pdfguard.PdfRefused as exc:
        raise _refuse_pdf(pdfguard.REASONS[exc.reason]) from exc
    if not 1 <= pages <= MAX_PDF_PAGES:
        raise _refuse_pdf(msg("页数须为 1–{max_pages}", max_pages=MAX_PDF_PAGES))
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
        raise ValidationFailed(msg("最多上传 {max_files} 个证据文件", max_files=MAX_FILES))
    return [check_file(f) for f in files]
