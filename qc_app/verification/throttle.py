"""Wrong check codes cost budget: per client and certificate number, and per client over all
numbers (Flask-Limiter's storage, so Redis when REDIS_URL is set and the budget holds across
workers).

Never per number alone: then ten wrong codes from anyone would lock the genuine owner out of
their own certificate. A guesser gets CHECK_CODE_BUDGET_PER_CLIENT_NUMBER tries at one number
per window (against 2^40 codes), and CHECK_CODE_BUDGET_PER_CLIENT over all numbers, so neither
codes nor numbers can be enumerated: a typed number that does not exist costs the same as a
wrong code, and after the budget the answer is 429 whatever is typed.

The client is request.remote_addr: behind QC_TRUSTED_PROXIES proxies, the address the outermost
of them saw (create_app's ProxyFix). With Redis down, `limiter.limiter` is Flask-Limiter's
per-process memory fallback: each view that spends budget carries a `limiter.limit`, whose check
runs first and makes the switch (and, once Redis answers again, the switch back).

The budget is keyed on the number as the lookup reads it (codes.normalize), so the same
number typed with spaces, in lower case or with O for 0 draws on the same budget.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse

from qc_app.codes import normalize
from qc_app.errors import TooManyAttempts
from qc_app.i18n import msg
from qc_app.web import config, limiter


def _keys(number: str) -> list[tuple[str, ...]]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "") or "qc"
    qc = config()
    client = get_remote_address()
    as_looked_up = normalize(number)[:32]
    return [
        (qc.CHECK_CODE_BUDGET_PER_CLIENT_NUMBER, prefix, "code-number", client, as_looked_up),
        (qc.CHECK_CODE_BUDGET_PER_CLIENT, prefix, "code-client", client),
    ]


def ensure_budget(number: str) -> None:
    """Refuse (429, saying how long to wait) once a budget of this client is spent."""
    if not config().RATELIMIT_ENABLED:
        return
    reset_at = [
        limiter.limiter.get_window_stats(parse(spec), *identifiers).reset_time
        for spec, *identifiers in _keys(number)
        if not limiter.limiter.test(parse(spec), *identifiers)
    ]
    if reset_at:
        wait_s = max(reset_at) - time.time()
        raise TooManyAttempts(msg("校验码输错次数过多。"), wait_s=wait_s)


def spend(number: str) -> None:
    """One miss (wrong code or unknown number) against both budgets."""
    if not config().RATELIMIT_ENABLED:
        return
    for spec, *identifiers in _keys(number):
        limiter.limiter.hit(parse(spec), *identifiers)
