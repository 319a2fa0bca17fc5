"""Wrong check codes cost budget: per certificate number and per client (Flask-Limiter's
storage, so Redis when REDIS_URL is set and the budget holds across workers).

A typed number that does not exist costs the same as a wrong code, so neither numbers nor
codes can be enumerated: after the budget the answer is 429 whatever is typed.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse

from qc_app.errors import DomainError
from qc_app.web import config, limiter


class TooManyAttempts(DomainError):
    status = 429
    code = "rate_limited"


def _keys(number: str) -> list[tuple[str, ...]]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "") or "qc"
    qc = config()
    return [
        (qc.CHECK_CODE_BUDGET_PER_NUMBER, prefix, "code-number", number[:32]),
        (qc.CHECK_CODE_BUDGET_PER_CLIENT, prefix, "code-client", get_remote_address()),
    ]


def ensure_budget(number: str) -> None:
    if not config().RATELIMIT_ENABLED:
        return
    for spec, *identifiers in _keys(number):
        if not limiter.limiter.test(parse(spec), *identifiers):
            raise TooManyAttempts(
                "校验码错误次数过多，请稍后再试", "too many wrong check codes; try again later"
            )


def spend(number: str) -> None:
    """One miss (wrong code or unknown number) against both budgets."""
    if not config().RATELIMIT_ENABLED:
        return
    for spec, *identifiers in _keys(number):
        limiter.limiter.hit(parse(spec), *identifiers)
