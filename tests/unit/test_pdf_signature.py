"""The PDF-level signature: a per-body certificate from the platform CA, a PAdES signature
that pyHanko and poppler accept, and any changed byte breaks it."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from reportlab.pdfgen.canvas import Canvas

from qc_app.certificates import pades, pki

PASSPHRASE = "p" * 40
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> pki.Credential:
    return pki.new_ca(common_name="Test Platform CA", passphrase=PASSPHRASE, now=NOW)


@pytest.fixture(scope="module")
def body(ca: pki.Credential) -> pki.Credential:
    return pki.issue_body_certificate(
        ca=ca, passphrase=PASSPHRASE, body_code="GTC", body_name="测试检测中心", now=NOW
    )


@pytest.fixture(scope="module")
def signer(ca: pki.Credential, body: pki.Credential) -> pades.PadesSigner:
    return pades.PadesSigner(
        certificate_pem=body.certificate_pem,
        private_key_pem=body.private_key_pem,
        ca_pem=ca.certificate_pem,
        passphrase=PASSPHRASE,
    )


def plain_pdf(text: str = "certificate GTC-TEST") -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setTitle("GTC-TEST")
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def signed(signer: pades.PadesSigner) -> bytes:
    return signer.sign(plain_pdf())


def test_body_certificate_chains_to_the_ca(ca: pki.Credential, body: pki.Credential) -> None:
    issued = x509.load_pem_x509_certificate(body.certificate_pem.encode())
    root = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    issued.verify_directly_issued_by(root)
    assert pki.common_name(issued) == "GTC"
    assert issued.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_private_keys_are_encrypted_at_rest(ca: pki.Credential, body: pki.Credential) -> None:
    for credential in (ca, body):
        assert "ENCRYPTED PRIVATE KEY" in credential.private_key_pem
        with pytest.raises(ValueError):
            pki.load_private_key(credential.private_key_pem, "wrong passphrase" * 3)


def test_signed_pdf_validates_against_the_ca(ca: pki.Credential, signed: bytes) -> None:
    report = pades.validate(signed, trust_roots_pem=[ca.certificate_pem])
    assert report.ok, report.summary
    assert report.signer_common_name == "GTC"


def test_one_changed_byte_breaks_the_signature(ca: pki.Credential, signed: bytes) -> None:
    position = signed.index(b"/Title")
    tampered = signed[:position] + b"/Titlf" + signed[position + 6 :]
    report = pades.validate(tampered, trust_roots_pem=[ca.certificate_pem])
    assert not report.intact
    assert not report.ok


def test_an_appended_update_is_not_whole_file(
    ca: pki.Credential, signer: pades.PadesSigner, signed: bytes
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/PageMode"] = generic.NameObject("/UseOutlines")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    assert len(out.getvalue()) > len(signed)
    report = pades.validate(out.getvalue(), trust_roots_pem=[ca.certificate_pem])
    assert not report.whole_file
    assert not report.ok


def test_another_ca_is_not_trusted(signed: bytes) -> None:
    stranger = pki.new_ca(common_name="Test Platform CA", passphrase=PASSPHRASE, now=NOW)
    report = pades.validate(signed, trust_roots_pem=[stranger.certificate_pem])
    assert report.intact and report.valid
    assert not report.trusted
    assert not report.ok


def test_unsigned_pdf_is_refused() -> None:
    with pytest.raises(pades.PadesMissing):
        pades.validate(plain_pdf(), trust_roots_pem=[])


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils' pdfsig not installed")
def test_poppler_accepts_the_signature(signed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in result.stdout, result.stdout + result.stderr


def test_changed_padding_in_the_signature_value_is_caught(
    ca: pki.Credential, signed: bytes
) -> None:
    """pyHanko itself ignores bytes after the CMS blob; the validator does not."""
    position = signed.index(b"/Contents <") + len(b"/Contents <") + 2 * 2500
    assert signed[position : position + 1] == b"0"
    tampered = signed[:position] + b"1" + signed[position + 1 :]
    assert not pades.validate(tampered, trust_roots_pem=[ca.certificate_pem]).ok


def test_respelled_hex_in_the_signature_value_is_caught(ca: pki.Credential, signed: bytes) -> None:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    position = next(i for i in range(start, start + 400) if signed[i : i + 1] in b"ABCDEF")
    tampered = signed[:position] + signed[position : position + 1].lower() + signed[position + 1 :]
    assert not pades.validate(tampered, trust_roots_pem=[ca.certificate_pem]).ok


def test_a_changed_byte_anywhere_is_caught(ca: pki.Credential, signed: bytes) -> None:
    for position in range(0, len(signed), max(1, len(signed) // 200)):
        tampered = bytearray(signed)
        tampered[position] ^= 0x04
        try:
            report = pades.validate(bytes(tampered), trust_roots_pem=[ca.certificate_pem])
        except pades.PadesMissing:
            continue  # no longer a readable signed PDF at all
        assert not report.ok, position
