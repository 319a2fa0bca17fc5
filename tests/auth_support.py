"""Staff log in with a real TOTP second factor in the tests too: each test's staff accounts get
a fresh secret (conftest.world), and every code is computed here with pyotp, as a phone's
authenticator app would. A code is never accepted twice, so the book remembers the last step
it handed out per secret and moves on to the next step, waiting for it when the two steps the
server accepts (this one and the next) are both spent."""

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
            # Both spent: wait for the next step, as a person would (at most 30 s; a test that
            # signs one user in again and again should share one session instead).
            time.sleep((current + 1) * STEP - time.time() + 0.05)
        self._last[secret] = step
        return pyotp.TOTP(secret).at(step * STEP)


TOTP = TotpBook()
