"""The platform's small X.509 hierarchy for PDF signatures: one CA, one signing certificate
per testing body.

PDF readers and poppler check ECDSA but not Ed25519, so the PAdES signature uses P-256 while
the compact payload and QR signatures stay Ed25519. Private keys leave this module only as
encrypted PKCS#8 PEM (the key passphrase), like the Ed25519 keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_YEARS = 20
BODY_YEARS = 5
PLATFORM_ORGANISATION = "qc_app platform"
# Document signing (RFC 9336); readers accept it alongside the plain digitalSignature usage.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class Credential:
    """A certificate and its encrypted private key, both PEM."""

    certificate_pem: str
    private_key_pem: str
    serial: str
    subject: str
    not_before: datetime
    not_after: datetime


def _encrypt(key: ec.EllipticCurvePrivateKey, passphrase: str) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode("ascii")


def load_private_key(pem: str, passphrase: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), passphrase.encode())
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("PDF signing key is not ECDSA")
    return key


def load_certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _credential(certificate: x509.Certificate, key_pem: str) -> Credential:
    return Credential(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        private_key_pem=key_pem,
        serial=format(certificate.serial_number, "x"),
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, PLATFORM_ORGANISATION),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def new_ca(*, common_name: str, passphrase: str, now: datetime) -> Credential:
    """A self-signed root that may sign end-entity certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _credential(certificate, _encrypt(key, passphrase))


def issue_body_certificate(
    *,
    ca: Credential,
    passphrase: str,
    body_code: str,
    body_name: str,
    now: datetime,
) -> Credential:
    """The signing certificate of one testing body, issued by the platform CA.

    The body's code is the common name (ASCII, stable); its Chinese name rides along as the
    organisational unit so a PDF reader shows who signed.
    """
    ca_certificate = load_certificate(ca.certificate_pem)
    ca_key = load_private_key(ca.private_key_pem, passphrase)
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + timedelta(days=365 * BODY_YEARS), ca_certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(body_code, body_name))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _credential(certificate, _encrypt(key, passphrase))


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
