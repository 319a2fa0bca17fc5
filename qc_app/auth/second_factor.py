"""The TOTP second factor (RFC 6238: 6 digits, 30 s steps, SHA-1, what every authenticator app
reads from an otpauth:// QR) and its one-time recovery codes. Pure: no Flask, no session; the
clock is passed in.

A code is accepted for the step before, the current one and the one after (a terminal's clock
may be half a minute off), and only for a step later than the last one accepted, so a code
seen over a shoulder or in a log cannot be used again (RFC 6238 §5.2).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

ISSUER = "qc_app"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Recovery codes: 10 characters of an alphabet without look-alikes (50 bits each), shown
# as two groups of five.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The otpauth URI as an SVG QR code, for the enrolment page to show inline."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` is right for, if it is one not used before; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        fresh = last_step is None or step > last_step
        if fresh and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now` (demo mode's `flask qc totp-code`)."""
    return pyotp.TOTP(secret).at(now)


def new_recovery_codes() -> list[str]:
    codes = ("".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES))
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_hash(code: str) -> str:
    """Recovery codes carry 50 random bits each: a plain SHA-256 is enough to keep them."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()
