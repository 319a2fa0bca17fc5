"""Staff log in with a real TOTP second factor in the tests too: each test's staff accounts get
a fresh secret (conftest.world), and every code is computed here with pyotp, as a phone's
authenticator app would. A code is never accepted twice, so the book remembers the last step
it handed out per secret and moves on to the next step; a test needing more than the two the
server accepts (this step's and the next) signs in once and shares the session."""

from __future__ import annotations

import time

import pyotp

STEP = 30


class TotpBook:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self._last: dict[str, int] = {}

    def enrol(self, username: str, secret: str) -> None:
        self.secrets[username] = secret

    def code(self, username: str) -> str:
        """The next unused code of `username`'s authenticator: the current step's, else the
        next step's (the server accepts one step of drift either way)."""
        secret = self.secrets[username]
        current = int(time.time()) // STEP
        step = max(current, self._last.get(secret, -1) + 1)
        if step > current + 1:
            raise AssertionError(f"{username}: no unused TOTP code until the next step")
        self._last[secret] = step
        return pyotp.TOTP(secret).at(step * STEP)


TOTP = TotpBook()
