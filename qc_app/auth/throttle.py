"""Failed logins (a wrong password, or a wrong second-factor code) cost budget
(qc_app.budgets): per account name from any address, and per client address over all names,
in windows of growing length: delays that grow, never a lock-out.

An attacker could still spend an account's budget on purpose and keep its owner waiting, so a
terminal the account has logged in from before spends a budget of its own for the account
instead: the device cookie, signed with SECRET_KEY and set on every complete login, names the
terminal and the accounts that logged in there. An attack on the account from elsewhere does
not slow the inspector at their own terminal.

The login pages also carry the public request limit (`limiter.limit`): with Redis down, its
check runs first and switches `limiter.limiter` to the per-process memory fallback, so the
budgets keep counting (verification/throttle.py does the same).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from qc_app import budgets
from qc_app.budgets import Budget
from qc_app.i18n import msg
from qc_app.web import config

DEVICE_DAYS = 90
MAX_ACCOUNTS = 20  # a shared terminal is used by one shift's people, not by everyone


def _cookie_name() -> str:
    return "__Host-qc_device" if config().COOKIE_SECURE else "qc_device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config().SECRET_KEY, salt="qc-device-v1")


def _device() -> dict[str, Any]:
    raw = request.cookies.get(_cookie_name())
    if not raw:
        return {}
    try:
        found = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return {}
    return found if isinstance(found, dict) else {}


def _budgets(username: str) -> list[Budget]:
    qc = config()
    name = username.strip().casefold()[:64]
    device = _device()
    account = (
        ("login-device", name, str(device["d"]))
        if name in device.get("u", [])
        else ("login-account", name)
    )
    return [
        Budget(qc.LOGIN_FAILURES_PER_ADDRESS, ("login-address", get_remote_address())),
        Budget(qc.LOGIN_FAILURES_PER_ACCOUNT, account),
    ]


def ensure_budget(username: str) -> None:
    """Refuse (429, saying how long to wait) while this account's or this address's
    budget of failed logins is spent."""
    budgets.ensure(_budgets(username), msg("登录失败次数过多。"))


def spend(username: str) -> None:
    budgets.spend(_budgets(username))


def remember_device(response: Response, username: str) -> Response:
    """After a complete login: this terminal is one the account uses."""
    device = _device()
    name = username.casefold()
    known = [n for n in device.get("u", []) if n != name][-(MAX_ACCOUNTS - 1) :]
    value = {"d": device.get("d") or secrets.token_urlsafe(16), "u": [*known, name]}
    qc = config()
    response.set_cookie(
        _cookie_name(),
        _serializer().dumps(value),
        max_age=DEVICE_DAYS * 86400,
        secure=qc.COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response
