"""argon2id password hashes (argon2-cffi defaults: t=3, m=64 MiB, p=4, above ASVS minimums)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg

_hasher = PasswordHasher()
# Verified when the user does not exist, so both paths cost the same time (no user enumeration).
_DUMMY = _hasher.hash("qc-dummy-password-for-timing")
MIN_LENGTH = 12
MAX_LENGTH = 128


def check_policy(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(
            msg(
                "密码长度须为 {min_length}–{max_length} 个字符",
                min_length=MIN_LENGTH,
                max_length=MAX_LENGTH,
            ),
        )


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
