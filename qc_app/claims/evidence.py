"""Claim evidence: photos are re-encoded without metadata (uploads.clean_image); PDFs (a lab's
or a brand owner's report) are kept as sent but only after they parse and carry no active
content (JavaScript, launch actions, embedded files, forms that run scripts).

Pure: bytes in, checked bytes out; no Flask, no session.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from qc_app.errors import ValidationFailed
from qc_app.uploads import clean_image

MAX_FILES = 6
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 50
# Keys that make a PDF do something when opened or clicked.
ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/RichMedia",
        "/XFA",
        "/AA",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
    }
)


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    kind: str  # "jpg" or "pdf"
    original_sha256: str


def _refuse_pdf(en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(f"PDF 证据无效：{zh}", f"PDF evidence refused: {en}")


def _walk(obj: object, seen: set[int], depth: int = 0) -> None:
    if depth > 60:
        raise _refuse_pdf("nested too deeply", "嵌套过深")
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        active = ACTIVE_KEYS.intersection(str(k) for k in obj)
        if active or obj.get("/S") in ("/JavaScript", "/Launch"):
            raise _refuse_pdf("it contains active content", "含有脚本或启动动作")
        for value in obj.values():
            _walk(value, seen, depth + 1)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            _walk(value, seen, depth + 1)


def check_pdf(data: bytes) -> CheckedFile:
    if len(data) > MAX_PDF_BYTES:
        raise _refuse_pdf("larger than 10 MB", "超过 10 MB")
    if not data.startswith(b"%PDF-"):
        raise _refuse_pdf("not a PDF file", "不是 PDF 文件")
    # Cheap first pass over the raw bytes; the object walk below also sees compressed objects.
    if any(marker in data for marker in (b"/JavaScript", b"/JS ", b"/JS(", b"/Launch")):
        raise _refuse_pdf("it contains active content", "含有脚本或启动动作")
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse_pdf("it is encrypted", "已加密")
        if not 1 <= len(reader.pages) <= MAX_PDF_PAGES:
            raise _refuse_pdf(
                f"it must have 1–{MAX_PDF_PAGES} pages", f"页数须为 1–{MAX_PDF_PAGES}"
            )
        _walk(reader.trailer, set())
        for page in reader.pages:
            _walk(page, set())
    except ValidationFailed:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise _refuse_pdf("it does not parse", "无法解析") from exc
    finally:
        pypdf_log.setLevel(level)
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
