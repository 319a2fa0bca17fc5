from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from qc_app.authz import Role
from qc_app.sqltypes import UTCDateTime


class User(SQLModel, table=True):
    """Table: a person who logs in; one role each."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=200)
    role: Role = Field(sa_column=Column(String(16), nullable=False))
    merchant_id: int | None = Field(default=None, foreign_key="merchants.id")
    testing_body_id: int | None = Field(default=None, foreign_key="testing_bodies.id")
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The TOTP second factor (RFC 6238): the shared secret (base32), when it was confirmed
    # with a code (a secret not yet confirmed is an enrolment under way), and the last time
    # step a code was accepted for, so no code is accepted twice.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger()))


class RecoveryCode(SQLModel, table=True):
    """Table: a one-time code that stands in for the authenticator once; only its hash is kept."""

    __tablename__ = "recovery_codes"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class UserSession(SQLModel, table=True):
    """Table: a login on one browser; the cookie holds only a random id whose hash is the key."""

    __tablename__ = "user_sessions"
    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set once the second factor was given; a session of a user who needs one is only a
    # pending login until then (the password step alone opens no page).
    second_factor_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ApiToken(SQLModel, table=True):
    """Table: a bearer token for the JSON API; stored as a hash, shown once, valid until it
    expires or is revoked."""

    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
