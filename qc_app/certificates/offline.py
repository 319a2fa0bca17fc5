"""Offline verification of a certificate PDF against the published keys (the JWKS).

Used by `scripts/verify-certificate`. Checks, in order: the signed payload travels inside the
PDF and is canonical; its Ed25519 signature verifies under the key it names; the issue date it
claims lies inside that key's window; the PDF-level (PAdES) signature covers the whole,
unaltered file; that signature chains to the platform CA (from the JWKS or a given PEM) and was
made by the testing body the payload names; the page's title is the payload's number.
Only a PDF passing every check is genuine.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import os
import sys
import textwrap
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pypdf import PdfReader

from qc_app.certificates import pades, payload, signing
from qc_app.certificates.pdf import PayloadMissing, read_embedded_payload


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    number: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok


def ca_certificates_from_jwks(jwks: dict[str, Any]) -> list[str]:
    """The platform CA certificates published in the JWKS (`qc_role: pdf-ca`, `x5c`), as PEM."""
    found = []
    for entry in jwks.get("keys", []):
        if entry.get("qc_role") == "pdf-ca" and entry.get("x5c"):
            der = base64.b64decode(entry["x5c"][0])
            pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
            found.append(pem.decode("ascii"))
    return found


def verify_pdf(pdf: bytes, jwks: dict[str, Any], *, ca_pem: str | None = None) -> Report:
    report = Report()
    try:
        return _verify(report, pdf, jwks, ca_pem)
    except Exception as exc:  # a hostile file must give a verdict, never a crash
        report.add("readable certificate", False, f"could not be checked: {exc!r}")
        return report


def _verify(report: Report, pdf: bytes, jwks: dict[str, Any], ca_pem: str | None) -> Report:
    try:
        embedded = read_embedded_payload(pdf)
    except PayloadMissing as exc:
        report.add("embedded payload", False, str(exc))
        return report
    try:
        signed = payload.parse(embedded.payload_json)
    except payload.PayloadError as exc:
        report.add("embedded payload", False, str(exc))
        return report
    report.number = str(signed.get("number"))
    report.add("embedded payload", True, f"canonical qc-cert/1 payload for {report.number}")
    if not report.add(
        "key id",
        signed.get("kid") == embedded.kid,
        f"payload names key {signed.get('kid')}, signature was made with {embedded.kid}",
    ):
        return report
    _check_payload_signature(report, jwks, embedded.payload_json, embedded.signature_b64, signed)
    trust = [ca_pem] if ca_pem else ca_certificates_from_jwks(jwks)
    _check_pades(report, pdf, trust, signed)
    title = PdfReader(io.BytesIO(pdf)).metadata
    shown = title.title if title else None
    report.add(
        "page matches payload",
        shown == report.number,
        f"PDF title {shown!r}, payload number {report.number!r}",
    )
    return report


def _check_payload_signature(
    report: Report, jwks: dict[str, Any], data: bytes, signature: str, signed: dict[str, Any]
) -> None:
    keys = signing.verifier_from_jwks(jwks)
    issued_at = datetime.fromisoformat(str(signed.get("issued_at")))
    kid = str(signed["kid"])
    try:
        keys.verify(data, signature, kid, at=None)
    except (signing.UnknownKey, signing.SignatureInvalid) as exc:
        report.add("payload signature (Ed25519)", False, str(exc))
        return
    report.add("payload signature (Ed25519)", True, f"verified with key {kid}")
    # The signature is checked once above; the window is a separate verdict on the same key.
    key = keys.key(kid)
    until = key.not_after.isoformat() if key.not_after else "now (current key)"
    if not key.covers(issued_at):
        report.add(
            "key window",
            False,
            f"key {kid} was not valid for signing at {issued_at.isoformat()} "
            f"(valid {key.not_before.isoformat()} .. {until})",
        )
        return
    report.add(
        "key window",
        True,
        f"issued {issued_at.isoformat()} within {key.not_before.isoformat()} .. {until}",
    )


def _check_pades(report: Report, pdf: bytes, trust: list[str], signed: dict[str, Any]) -> None:
    try:
        result = pades.validate(pdf, trust_roots_pem=trust)
    except pades.PadesMissing as exc:
        report.add("PDF signature (PAdES)", False, str(exc))
        return
    report.add(
        "PDF signature (PAdES)",
        result.intact and result.valid and result.whole_file,
        f"intact={result.intact} valid={result.valid} covers whole file={result.whole_file}; "
        f"signed by {result.signer}",
    )
    report.add(
        "PDF signer chains to platform CA",
        result.trusted,
        "trusted" if result.trusted else f"not trusted ({len(trust)} CA certificate(s) given)",
    )
    body = signed.get("testing_body", {}).get("code")
    report.add(
        "PDF signer is the payload's testing body",
        result.signer_common_name == body,
        f"signer {result.signer_common_name!r}, payload testing body {body!r}",
    )


def load_jwks(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=15) as response:  # noqa: S310 - http(s) only
            document = json.loads(response.read())
    else:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError("the JWKS is not a JSON object")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify-certificate",
        description="Verify a qc_app certificate PDF offline; exit 0 only if genuine, unaltered.",
    )
    parser.add_argument("pdf", type=Path)
    default = os.environ.get("QC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    parser.add_argument(
        "--jwks",
        default=f"{default}/.well-known/jwks.json",
        help="JWKS file or URL (default: $QC_BASE_URL/.well-known/jwks.json)",
    )
    parser.add_argument(
        "--ca", type=Path, help="platform CA certificate (PEM) instead of the JWKS's"
    )
    args = parser.parse_args(argv)
    # pyHanko logs a stack trace for an untrusted chain; the report says it in one line.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        pdf = args.pdf.read_bytes()
        jwks = load_jwks(args.jwks)
        ca_pem = args.ca.read_text() if args.ca else None
    except (OSError, ValueError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    report = verify_pdf(pdf, jwks, ca_pem=ca_pem)
    print(f"certificate {report.number or '?'} ({args.pdf})")
    for check in report.checks:
        mark = "PASS" if check.ok else "FAIL"
        print(f"  [{mark}] {check.name}")
        print(textwrap.indent(textwrap.fill(check.detail, 96), "         "))
    print("GENUINE: signed by the platform and unaltered" if report.ok else "NOT GENUINE")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
