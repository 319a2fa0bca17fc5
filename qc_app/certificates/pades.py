"""The PDF-level signature (PAdES, ECDSA P-256) that PDF readers and poppler recognise.

It certifies the whole rendered certificate, attachments included, in the name of the testing
body's signing certificate, issued by the platform CA. Signing and validation only: the caller
passes keys and certificates in and gets bytes or a report back.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from qc_app.certificates.pki import load_certificate, load_private_key

T = TypeVar("T")
FIELD_NAME = "QCLabSignature"
SIGNATURE_BYTES_RESERVED = 6144
REASON = "鉴定证书签发 Certificate issued by the testing body"


class PadesMissing(ValueError):
    """The PDF carries no PDF-level signature, or not exactly one."""


def _asn1_certificate(pem: str) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(
        load_certificate(pem).public_bytes(serialization.Encoding.DER)
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """pyHanko is async inside; its sync wrappers call asyncio.run, which fails under a running
    loop (e.g. Playwright's in the browser tests). Run on a helper thread in that case."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class PadesSigner:
    """A testing body's signing key and chain, decrypted once and reused for every PDF."""

    def __init__(
        self, *, certificate_pem: str, private_key_pem: str, ca_pem: str, passphrase: str
    ) -> None:
        key = load_private_key(private_key_pem, passphrase)
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        ca = _asn1_certificate(ca_pem)
        self._signer = signers.SimpleSigner(
            signing_cert=_asn1_certificate(certificate_pem),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([ca]),  # type: ignore[no-untyped-call]
        )
        # Certify (DocMDP, no changes): any later edit, even a valid incremental one, shows.
        self._meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=REASON,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )

    def sign(self, pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        output = io.BytesIO()
        # A fixed reservation skips pyHanko's dry-run signature that would size it (a second
        # ECDSA signature and CMS encoding per PDF); the CMS with its two certificates is ~2 KB.
        _run(
            signers.async_sign_pdf(
                writer,
                self._meta,
                signer=self._signer,
                output=output,
                bytes_reserved=SIGNATURE_BYTES_RESERVED,
            )
        )
        return output.getvalue()


@lru_cache(maxsize=16)
def cached_signer(
    certificate_pem: str, private_key_pem: str, ca_pem: str, passphrase: str
) -> PadesSigner:
    """Decrypting a key costs a KDF run: one signer per process and certificate."""
    return PadesSigner(
        certificate_pem=certificate_pem,
        private_key_pem=private_key_pem,
        ca_pem=ca_pem,
        passphrase=passphrase,
    )


@dataclass(frozen=True)
class PadesReport:
    """What the validator found; `ok` is the one answer to gate on."""

    intact: bool  # the signed byte ranges hash to the signed digest
    valid: bool  # the CMS signature over that digest checks out
    trusted: bool  # the signer's chain ends at a trust root we were given
    # Nothing appended after the signature, and the one unsigned gap (the signature value
    # itself) holds exactly the signature: no changed padding or hex-case games.
    whole_file: bool
    signer: str  # the signing certificate's subject
    signer_common_name: str
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.whole_file


def validate(pdf: bytes, *, trust_roots_pem: list[str]) -> PadesReport:
    """Validate the single PAdES signature of `pdf` against the given trust roots."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # hostile input: pyHanko's parser raises all kinds of errors
        raise PadesMissing(f"not a readable signed PDF: {exc!r}") from exc
    if len(signatures) != 1:
        raise PadesMissing(f"expected one PDF signature, found {len(signatures)}")
    embedded = signatures[0]
    context_roots = [_asn1_certificate(pem) for pem in trust_roots_pem]
    context = ValidationContext(
        trust_roots=context_roots,
        allow_fetching=False,
    )
    try:
        status = _run(async_validate_pdf_signature(embedded, context))
        return _report(pdf, embedded, status, context_roots)
    except Exception as exc:  # a mangled signature is a failure, never a crash
        return PadesReport(False, False, False, False, "", "", f"unreadable: {exc!r}")


def _report(
    pdf: bytes, embedded: Any, status: Any, roots: list[asn1_x509.Certificate]
) -> PadesReport:
    cert = status.signing_cert
    known = {root.dump() for root in roots} | ({cert.dump()} if cert is not None else set())
    contents_clean = _contents_are_canonical(pdf, embedded, known)
    subject = cert.subject.human_friendly if cert is not None else ""
    common = cert.subject.native.get("common_name", "") if cert is not None else ""
    return PadesReport(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE and contents_clean,
        signer=subject,
        signer_common_name=str(common),
        summary=status.summary(),
    )


def _contents_are_canonical(pdf: bytes, embedded: Any, known_certificates: set[bytes]) -> bool:
    """The bytes the signature does not cover must be exactly what we sign with: `<HEX>` of a
    DER CMS blob whose every unsigned field has the one value we write, plus zero padding.

    pyHanko parses the blob lazily and ignores what follows it, hex digits are case-blind, and
    CMS leaves the certificate bag and algorithm lists unsigned, so a byte changed in any of
    those would otherwise go unnoticed."""
    try:
        start, first_length, second_start, _ = (int(v) for v in embedded.sig_object["/ByteRange"])
        contents = bytes(embedded.sig_object["/Contents"])
        # Lengths and certificate bytes from an untouched parse: reading `.native` can mark
        # asn1crypto values dirty, and re-encoding them is slow.
        encoded = cms.ContentInfo.load(contents).dump()
        # cryptography's parser is strict DER over the whole structure: garbage in a field
        # pyHanko never reads, or another encoding of the same values, is refused.
        pkcs7.load_der_pkcs7_certificates(encoded)
        blob = cms.ContentInfo.load(encoded)
        signed_data = blob["content"]
        bag = signed_data["certificates"]
        carried = {choice.chosen.dump() for choice in bag} if len(bag) else set()
        signer_infos = signed_data["signer_infos"]
        signer_info = signer_infos[0]
        sha256 = {"algorithm": "sha256", "parameters": None}
        expected = (
            blob["content_type"].native == "signed_data"
            and signed_data["version"].native == "v1"
            and [dict(a) for a in signed_data["digest_algorithms"].native] == [sha256]
            and dict(signed_data["encap_content_info"].native)
            == {"content_type": "data", "content": None}
            and signed_data["crls"].native is None
            and len(signer_infos) == 1
            and signer_info["version"].native == "v1"
            and signer_info["sid"].name == "issuer_and_serial_number"
            and dict(signer_info["digest_algorithm"].native) == sha256
            and dict(signer_info["signature_algorithm"].native)
            == {"algorithm": "sha256_ecdsa", "parameters": None}
            and signer_info["unsigned_attrs"].native is None
        )
    except Exception:  # asn1crypto raises all kinds of errors on a mangled blob
        return False
    gap = pdf[start + first_length : second_start]
    # pyHanko writes upper-case hex; any other spelling of the same bytes is an edit.
    return (
        expected
        and carried <= known_certificates
        and contents[: len(encoded)] == encoded
        and not any(contents[len(encoded) :])
        and gap == b"<" + contents.hex().upper().encode("ascii") + b">"
    )
