"""Budgets of failures, kept in Flask-Limiter's storage (Redis when REDIS_URL is set, so a
budget holds across workers; memory otherwise): wrong check codes (verification/throttle.py)
and failed logins (auth/throttle.py).

A budget is a limits spec of one or more windows on a key, e.g. "5/minute;10/15 minutes": each
failure spends one in every window, and once a window is spent the answer is 429, saying how
long to wait, until that window resets. Windows of growing length make growing delays rather
than a lock-out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many

from qc_app.errors import TooManyAttempts
from qc_app.i18n import Message
from qc_app.web import config, limiter


@dataclass(frozen=True)
class Budget:
    spec: str
    key: tuple[str, ...]


def _windows(budgets: Iterable[Budget]) -> Iterator[tuple[RateLimitItem, tuple[str, ...]]]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "") or "qc"
    for budget in budgets:
        for window in parse_many(budget.spec):
            yield window, (prefix, *budget.key)


def ensure(budgets: Iterable[Budget], what: Message) -> None:
    """Refuse (429, saying how long to wait) once any window of any budget is spent."""
    if not config().RATELIMIT_ENABLED:
        return
    strategy = limiter.limiter
    reset_at = [
        strategy.get_window_stats(window, *key).reset_time
        for window, key in _windows(budgets)
        if not strategy.test(window, *key)
    ]
    if reset_at:
        raise TooManyAttempts(what, wait_s=max(reset_at) - time.time())


def remaining(budgets: Iterable[Budget]) -> int | None:
    """Failures left before the first window is spent (None: budgets are off)."""
    if not config().RATELIMIT_ENABLED:
        return None
    strategy = limiter.limiter
    return min(
        strategy.get_window_stats(window, *key).remaining for window, key in _windows(budgets)
    )


def spend(budgets: Iterable[Budget]) -> None:
    """One failure against every window of every budget."""
    if not config().RATELIMIT_ENABLED:
        return
    for window, key in _windows(budgets):
        limiter.limiter.hit(window, *key)
