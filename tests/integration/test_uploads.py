"""Intake photos through the API: metadata stripped, non-images and pixel bombs refused,
polyglots re-encoded (security.md §8 checks 18-20)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlmodel import select

from qc_app import storage
from qc_app.db import engine_of, new_session
from qc_app.items.models import Item, Photo
from qc_app.uploads import MAX_PIXELS
from tests.claims_support import pdf_bytes
from tests.conftest import (
    HTML_IN_JPEG,
    HTML_PAGE,
    SVG_IMAGE,
    Flow,
    jpeg_bytes,
    jpeg_html_polyglot,
    other_views,
    stored_files,
)

GPS_IFD = 0x8825


@dataclass
class Send:
    """Receives one declared item through the API, with a photo upload as the front view (the
    rest of the set is plain JPEGs)."""

    client: Any
    headers: dict[str, str]
    code: str

    def __call__(self, data: bytes, filename: str = "photo.jpg") -> Any:
        return self.client.post(
            f"/api/v1/items/{self.code}/receive",
            headers=self.headers,
            data={"mass_g": "5.03", "photo": (io.BytesIO(data), filename), **other_views()},
            content_type="multipart/form-data",
        )


@pytest.fixture
def send(client: Any, flow: Flow, token: Callable[[str], dict[str, str]]) -> Send:
    code = flow.declare().code
    headers = token("inspector1")
    flow.db.commit()  # nothing open in the fixture session before the first request
    return Send(client, headers, code)


def stored(app: Flask, code: str) -> tuple[str, list[Photo]]:
    with new_session(engine_of(app)) as fresh:
        item = fresh.exec(select(Item).where(Item.code == code)).one()
        query = select(Photo).where(Photo.item_id == item.id, Photo.view == "front")
        return str(item.state), list(fresh.exec(query))


def png(size: tuple[int, int], mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128).save(out, format="PNG")
    return out.getvalue()


def test_gps_exif_is_stripped_from_the_stored_photo(app: Flask, send: Send) -> None:
    original = jpeg_bytes(exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the upload has GPS
    answer = send(original)
    assert answer.status_code == 200, answer.get_json()
    state, photos = stored(app, send.code)
    assert state == "received"
    [photo] = photos
    assert photo.original_sha256 == hashlib.sha256(original).hexdigest()
    kept = storage.load(stored_files(app), "photos", photo.sha256, ".jpg")
    assert hashlib.sha256(kept).hexdigest() == photo.sha256 != photo.original_sha256
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in kept


def test_png_is_stored_as_jpeg(app: Flask, send: Send) -> None:
    answer = send(png((64, 48), "RGBA"), "photo.png")
    assert answer.status_code == 200, answer.get_json()
    [photo] = stored(app, send.code)[1]
    kept = storage.load(stored_files(app), "photos", photo.sha256, ".jpg")
    assert Image.open(io.BytesIO(kept)).format == "JPEG"
    assert (photo.width, photo.height) == (64, 48)


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, format="GIF")
    return out.getvalue()


NOT_IMAGES = {
    "html named .jpg": HTML_PAGE,
    "svg": SVG_IMAGE,
    "pdf": pdf_bytes(),
    "gif": _gif(),
    "truncated jpeg": jpeg_bytes()[:200],
    "jpeg magic then html": b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>",
}


@pytest.mark.parametrize("data", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_non_image_is_422_and_item_stays_declared(app: Flask, send: Send, data: bytes) -> None:
    answer = send(data)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "validation_failed"
    assert stored(app, send.code) == ("declared", [])


def test_png_beyond_the_pixel_limit_is_422(app: Flask, send: Send) -> None:
    bomb = png((7000, 7000))
    assert MAX_PIXELS < 7000 * 7000
    assert len(bomb) < 1024 * 1024  # one colour: tiny on disk, huge in memory
    answer = send(bomb, "photo.png")
    assert answer.status_code == 422
    assert "pixels" in answer.get_json()["error"]["message"]
    assert stored(app, send.code) == ("declared", [])


def test_jpeg_html_polyglot_is_stored_re_encoded_without_the_html(app: Flask, send: Send) -> None:
    polyglot = jpeg_html_polyglot()
    answer = send(polyglot, "photo.jpg")
    assert answer.status_code == 200, answer.get_json()
    [photo] = stored(app, send.code)[1]
    kept = storage.load(stored_files(app), "photos", photo.sha256, ".jpg")
    assert Image.open(io.BytesIO(kept)).format == "JPEG"
    assert photo.original_sha256 == hashlib.sha256(polyglot).hexdigest() != photo.sha256
    assert b"<script" not in kept and HTML_IN_JPEG not in kept


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds almost no data: 69 bytes for any size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 17))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "size", [(1, MAX_PIXELS + 1), (50_000, 50_000)], ids=["one-pixel-over", "50000x50000"]
)
def test_pixel_bomb_is_refused(app: Flask, send: Send, size: tuple[int, int]) -> None:
    answer = send(_png_header(*size), "photo.png")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["message"] == "photo (front): the photo has too many pixels"
    assert stored(app, send.code) == ("declared", [])
