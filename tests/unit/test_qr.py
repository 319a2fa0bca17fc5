"""QR PNGs decode back to their data, at the smallest version the data fits in."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import BIT_LIMIT_TABLE

from qc_app.certificates.qr import BYTE_CAPACITY_M, qr_matrix, qr_version_for

SHORT_URL = "https://qc.example.cn/v/GTC-7K3M9Q2XW4HD5"
# A verification URL as issued, with key id and an Ed25519 signature: 180 characters.
LONG_URL = (
    "https://verify.qc.example.cn/v/GTC-7K3M9Q2XW4HD5?k=qc-2026-01-a&s="
    "Zk9wQx3_-LmN0pQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "-_Zk9wQx3_-LmN0pQrSt0123ABCD"
)


def image_of(matrix: list[list[bool]], box_size: int = 8) -> Image.Image:
    """The modules as a black-on-white bitmap, `box_size` pixels each, as a scanner sees them."""
    side = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (side, side), pixels)
    return image.resize((side * box_size, side * box_size), Image.Resampling.NEAREST)


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(
    "data", [SHORT_URL, LONG_URL, "鉴定验真 假一赔十"], ids=["short", "long", "utf8"]
)
def test_qr_matrix_decodes_to_its_data(data: str) -> None:
    assert decode(image_of(qr_matrix(data))) == [data]


def test_matrix_has_the_versions_modules_and_a_quiet_zone() -> None:
    version = qr_version_for(len(SHORT_URL))
    modules = 17 + 4 * version + 2 * 4

    matrix = qr_matrix(SHORT_URL)

    assert (len(matrix), {len(row) for row in matrix}) == (modules, {modules})


@pytest.mark.parametrize(
    ("size", "version"), [(1, 1), (14, 1), (15, 2), (180, 9), (181, 10), (666, 20)]
)
def test_version_is_the_smallest_that_fits(size: int, version: int) -> None:
    assert qr_version_for(size) == version


def test_capacity_table_matches_qrcodes_bit_limits() -> None:
    # Byte mode: 4 mode bits, then an 8-bit length up to version 9 and a 16-bit one after.
    expected = tuple(
        (BIT_LIMIT_TABLE[ERROR_CORRECT_M][version] - 4 - (8 if version < 10 else 16)) // 8
        for version in range(1, len(BYTE_CAPACITY_M) + 1)
    )

    assert expected == BYTE_CAPACITY_M


def test_data_longer_than_version_20_is_refused() -> None:
    with pytest.raises(ValueError, match="too long for a QR code"):
        qr_matrix("x" * (BYTE_CAPACITY_M[-1] + 1))
