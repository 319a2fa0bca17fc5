from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from qc_app.i18n import msg
from qc_app.sqltypes import JSONText, UTCDateTime, unique_index


class SigningKey(SQLModel, table=True):
    """Table: an Ed25519 key; the private half is encrypted with the key passphrase."""

    __tablename__ = "signing_keys"
    kid: str = Field(primary_key=True, max_length=32)
    public_key: str = Field(max_length=64)
    private_key_pem: str = Field(sa_column=Column(Text, nullable=False))
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    not_after: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"


# Optimistic lock: two revocations or reissues at once → one StaleDataError (409), one winner.
_certificate_version = Column("version", Integer, nullable=False)


class Certificate(SQLModel, table=True):
    """Table: an issued certificate; payload holds the exact signed bytes."""

    __tablename__ = "certificates"
    __mapper_args__ = {"version_id_col": _certificate_version}
    __table_args__ = (
        # One valid certificate per item, enforced by the database on both backends.
        unique_index(
            "uq_certificates_item_valid",
            "item_id",
            refusal=msg("该物品已有有效证书"),
            where="status = 'valid'",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True, index=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    inspection_id: int = Field(foreign_key="inspections.id")
    check_code_hash: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=100)
    url_signature: str = Field(max_length=100)  # the QR's signature over the number (public)
    kid: str = Field(foreign_key="signing_keys.kid", max_length=32)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    issued_by_id: int = Field(foreign_key="users.id")
    status: CertificateStatus = Field(sa_column=Column(String(12), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoke_reason: str | None = Field(default=None, max_length=300)
    pdf_sha256: str = Field(max_length=64)
    # Reissue: the old certificate is revoked and points to its replacement, and back.
    superseded_by: str | None = Field(default=None, max_length=32)
    reissue_of: str | None = Field(default=None, max_length=32)
    version: int = Field(default=0, sa_column=_certificate_version)
    # The consumer registered ownership with the check code (once: verification.services).
    owner_registered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    def payload_fields(self) -> dict[str, Any]:
        """The signed payload, parsed. The column keeps the text: those bytes are what was
        signed (payload.canonical), so they are never re-serialised."""
        return json.loads(self.payload)  # type: ignore[no-any-return]


class CredentialKind(StrEnum):
    CA = "ca"
    BODY = "body"


class PdfSigningCredential(SQLModel, table=True):
    """Table: an X.509 certificate of the PDF-signing hierarchy (the platform CA, or one
    testing body's signing certificate) with its ECDSA key encrypted by the key passphrase."""

    __tablename__ = "pdf_signing_credentials"
    id: int | None = Field(default=None, primary_key=True)
    kind: CredentialKind = Field(sa_column=Column(String(8), nullable=False))
    body_code: str | None = Field(default=None, max_length=16, index=True)
    subject: str = Field(max_length=300)
    serial: str = Field(max_length=40, unique=True)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    private_key_pem: str = Field(sa_column=Column(Text, nullable=False))
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    not_after: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class IssuanceBatch(SQLModel, table=True):
    """Table: a tray of approved items issued together. Progress is read from the items and
    their certificates (the truth), so a crashed or abandoned batch just resumes.

    One step at a time issues for a batch: `step_started_at` is set while one runs (a lease;
    a step killed with its process leaves it behind, and it lapses). `stepped_at` is the last
    sign of life; a batch without one for a while is interrupted (certificates.batches)."""

    __tablename__ = "issuance_batches"
    id: int | None = Field(default=None, primary_key=True)
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    item_codes: list[str] = Field(sa_column=Column(JSONText(), nullable=False))
    # {item code: why it was not issued}, in the order the failures happened.
    failures: dict[str, str] = Field(sa_column=Column(JSONText(sort_keys=False), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    step_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stepped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
