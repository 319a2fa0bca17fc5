"""Uploads: images (decode only JPEG/PNG/WebP, refuse pixel bombs, re-encode without metadata)
and CSV files (one decoder for consignments and orders).

Re-encoding drops EXIF (GPS) and any polyglot payload; the original's hash is kept for the audit.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
LONGEST_SIDE = 2048
TOO_MANY_PIXELS = msg("照片像素过多")


@dataclass(frozen=True)
class CleanImage:
    jpeg: bytes
    width: int
    height: int
    original_sha256: str


def clean_image(data: bytes) -> CleanImage:
    if not data:
        raise ValidationFailed(msg("照片为空"))
    if len(data) > MAX_BYTES:
        raise ValidationFailed(msg("照片超过 10 MB"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"])
            if image.width * image.height > MAX_PIXELS:
                raise ValidationFailed(TOO_MANY_PIXELS)
            image.load()
            image = ImageOps.exif_transpose(image)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit, met at open for sizes far beyond ours (a 50,000² PNG header).
        raise ValidationFailed(TOO_MANY_PIXELS) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(msg("照片须为 JPEG、PNG 或 WebP 图片")) from exc
    image = image.convert("RGB")
    # Nothing of the upload but its pixels: Pillow would write info["comment"] back as a JPEG
    # comment (where a JPEG+HTML polyglot keeps its page, or a PNG its text chunk).
    image.info.clear()
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return CleanImage(out.getvalue(), image.width, image.height, hashlib.sha256(data).hexdigest())


CSV_MAX_BYTES = 1024 * 1024  # every CSV upload, consignments and orders alike


def decode_csv(data: bytes) -> str:
    """An uploaded CSV file as text (consignments and orders): at most 1 MB."""
    if len(data) > CSV_MAX_BYTES:
        raise ValidationFailed(msg("文件过大（最大 1 MB）"))
    # Excel on Chinese Windows saves GB18030/GBK; everything else sends UTF-8 (maybe with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # no text file holds one, and PostgreSQL cannot store it
            raise ValidationFailed(msg("文件含有空字符（NUL），不是文本 CSV"))
        return text
    raise ValidationFailed(msg("文件编码无法识别（请用 UTF-8）"))
