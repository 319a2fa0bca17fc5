"""Wrong check codes cost budget (qc_app.budgets): per client and certificate number, and per
client over all numbers.

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

from flask_limiter.util import get_remote_address

from qc_app import budgets
from qc_app.budgets import Budget
from qc_app.codes import normalize
from qc_app.i18n import msg
from qc_app.web import config


def _budgets(number: str) -> list[Budget]:
    qc = config()
    client = get_remote_address()
    as_looked_up = normalize(number)[:32]
    return [
        Budget(qc.CHECK_CODE_BUDGET_PER_CLIENT_NUMBER, ("code-number", client, as_looked_up)),
        Budget(qc.CHECK_CODE_BUDGET_PER_CLIENT, ("code-client", client)),
    ]


def ensure_budget(number: str) -> None:
    """Refuse (429, saying how long to wait) once a budget of this client is spent."""
    budgets.ensure(_budgets(number), msg("校验码输错次数过多。"))


def spend(number: str) -> int | None:
    """One miss (wrong code or unknown number) against both budgets; returns the tries left
    (None: budgets are off)."""
    found = _budgets(number)
    budgets.spend(found)
    return budgets.remaining(found)
