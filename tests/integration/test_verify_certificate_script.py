"""scripts/verify-certificate on real issued PDFs, run as a user would run it."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from qc_app.certificates import keys, lookup, pki, signing
from qc_app.certificates.pdf import PAYLOAD_ATTACHMENT, SIGNATURE_ATTACHMENT
from tests.conftest import stored_files

pytestmark = [pytest.mark.cjk_font, pytest.mark.usefixtures("cjk_font_path")]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify-certificate"


def run(pdf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), str(pdf), *args],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "QC_BASE_URL": "http://127.0.0.1:9",
        },
        timeout=120,
    )


@pytest.fixture
def issued(flow: Any, cjk_font_path: Path, tmp_path: Path) -> dict[str, Any]:
    """Two real certificates, their PDFs on disk, and the JWKS as published."""
    pdfs = []
    for index in range(2):
        _, certificate = flow.certified()
        data = lookup.certificate_pdf(
            session=flow.db,
            actor=flow.world["admin1"],
            number=certificate.certificate.number,
            files=stored_files(flow.app),
        )
        path = tmp_path / f"certificate-{index}.pdf"
        path.write_bytes(data)
        pdfs.append(path)
    jwks = tmp_path / "jwks.json"
    document = keys.jwks(flow.db)
    jwks.write_text(json.dumps(document))
    return {"pdfs": pdfs, "jwks": jwks, "document": document, "tmp": tmp_path}


def test_genuine_certificate_exits_zero_and_says_what_it_checked(issued: dict[str, Any]) -> None:
    result = run(issued["pdfs"][0], "--jwks", str(issued["jwks"]))
    assert result.returncode == 0, result.stdout + result.stderr
    for line in (
        "[PASS] payload signature (Ed25519)",
        "[PASS] key window",
        "[PASS] PDF signature (PAdES)",
        "[PASS] PDF signer chains to platform CA",
        "GENUINE",
    ):
        assert line in result.stdout


def test_one_changed_byte_fails(issued: dict[str, Any]) -> None:
    data = bytearray(issued["pdfs"][0].read_bytes())
    position = len(data) // 3  # inside the rendered page, well before the signature
    data[position] ^= 0x01
    tampered = issued["tmp"] / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    result = run(tampered, "--jwks", str(issued["jwks"]))
    assert result.returncode == 1, result.stdout
    assert "NOT GENUINE" in result.stdout


def swap_payload(page_pdf: bytes, payload_pdf: bytes) -> bytes:
    """Certificate A's page carrying certificate B's (genuinely signed) payload."""
    donor = PdfReader(io.BytesIO(payload_pdf)).attachments
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page_pdf)))
    del writer._root_object[NameObject("/Names")]
    writer.add_attachment(PAYLOAD_ATTACHMENT, donor[PAYLOAD_ATTACHMENT][0])
    writer.add_attachment(SIGNATURE_ATTACHMENT, donor[SIGNATURE_ATTACHMENT][0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_swapped_payload_fails(issued: dict[str, Any]) -> None:
    first, second = (path.read_bytes() for path in issued["pdfs"])
    swapped = issued["tmp"] / "swapped.pdf"
    swapped.write_bytes(swap_payload(first, second))
    result = run(swapped, "--jwks", str(issued["jwks"]))
    assert result.returncode == 1, result.stdout
    assert "[PASS] payload signature (Ed25519)" in result.stdout  # B's payload is genuine...
    assert "[FAIL] PDF signature (PAdES)" in result.stdout  # ...but not on A's page
    assert "[FAIL] page matches payload" in result.stdout


def other_platforms_jwks() -> dict[str, Any]:
    key = signing.generate_key("x" * 40)
    now = datetime.now(UTC)
    public = signing.public_key(key.kid, key.public_b64, now, None)
    return {"keys": [signing.jwk(public, key.public_b64)]}


def with_other_ca(document: dict[str, Any]) -> dict[str, Any]:
    stranger = pki.new_ca(common_name="Other CA", passphrase="x" * 40, now=datetime.now(UTC))
    entry = next(k for k in document["keys"] if k.get("qc_role") == "pdf-ca")
    der = pki.load_certificate(stranger.certificate_pem).public_bytes(Encoding.DER)
    other = dict(entry, x5c=[base64.b64encode(der).decode()])
    return {"keys": [k for k in document["keys"] if k is not entry] + [other]}


@pytest.mark.parametrize(
    ("make", "failed_check"),
    [
        (lambda doc: other_platforms_jwks(), "[FAIL] payload signature (Ed25519)"),
        (with_other_ca, "[FAIL] PDF signer chains to platform CA"),
    ],
    ids=["unknown-key", "other-ca"],
)
def test_wrong_jwks_fails(issued: dict[str, Any], make: Any, failed_check: str) -> None:
    wrong = issued["tmp"] / "wrong-jwks.json"
    wrong.write_text(json.dumps(make(issued["document"])))
    result = run(issued["pdfs"][0], "--jwks", str(wrong))
    assert result.returncode == 1, result.stdout
    assert failed_check in result.stdout


def test_unreadable_input_exits_two(issued: dict[str, Any]) -> None:
    result = run(issued["tmp"] / "missing.pdf", "--jwks", str(issued["jwks"]))
    assert result.returncode == 2


def test_the_script_calls_the_projects_verifier() -> None:
    assert "qc_app.certificates.offline" in SCRIPT.read_text()
