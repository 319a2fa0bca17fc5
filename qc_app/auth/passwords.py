"""argon2id password hashes (argon2-cffi defaults: t=3, m=64 MiB, p=4, above ASVS minimums),
and the policy a new password meets (ASVS 6.2.1, 6.2.4, 6.2.9): 12 to 128 characters, none of
the 10,000 most common passwords (data/common-passwords.txt), not containing the user name.
No composition rules: length and the list do the work."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg

_hasher = PasswordHasher()
# Verified when the user does not exist, so both paths cost the same time (no user enumeration).
_DUMMY = _hasher.hash("qc-dummy-password-for-timing")
MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON = Path(__file__).parent / "data" / "common-passwords.txt"
# The password of the demo accounts (README, DESIGN.md §8): public, so only the demo data may
# set it (demo.load_demo); anywhere else it is refused like a common password.
DEMO_PASSWORD = "demo-password"  # noqa: S105


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("# "))


def check_policy(password: str, *, username: str, demo: bool = False) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(
            msg(
                "密码长度须为 {min_length}–{max_length} 个字符",
                min_length=MIN_LENGTH,
                max_length=MAX_LENGTH,
            ),
        )
    folded = password.casefold()
    if folded in common_passwords() or (password == DEMO_PASSWORD and not demo):
        raise ValidationFailed(msg("这是常见密码，请换一个不易猜到的密码"))
    if username and username.casefold() in folded:
        raise ValidationFailed(msg("密码不能包含用户名"))


def hash_password(password: str, *, username: str, demo: bool = False) -> str:
    check_policy(password, username=username, demo=demo)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
