"""programmes.coverage.decide: when an order is covered, and why not, in the order the page
says it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from qc_app.errors import Conflict, Forbidden, NotFound
from qc_app.programmes.coverage import Facts, Gap, Terms, decide

T0 = datetime(2026, 11, 1, tzinfo=UTC)
JYPS = Terms("JYPS", "假一赔十", "Fake one, pay ten", 10, 90, T0 - timedelta(days=365), None)
PLACED = T0
DELIVERED = T0 + timedelta(days=3)
COVERED = Facts(
    certificate_valid=True,
    superseded=False,
    terms=JYPS,
    placed_at=PLACED,
    delivered_at=DELIVERED,
    offered=True,
)


def test_a_delivered_order_of_an_offered_listing_is_covered_until_the_window_ends() -> None:
    until = DELIVERED + timedelta(days=90)
    assert decide(COVERED, DELIVERED).covered
    last = decide(COVERED, until)
    assert last.covered and last.claim_until == until and last.terms == JYPS
    assert decide(COVERED, until + timedelta(microseconds=1)).gap == Gap.WINDOW_CLOSED


@pytest.mark.parametrize(
    ("change", "gap"),
    [
        ({"certificate_valid": False}, Gap.REVOKED),
        ({"certificate_valid": False, "superseded": True}, Gap.SUPERSEDED),
        ({"terms": None, "placed_at": None, "delivered_at": None}, Gap.NO_ORDER),
        (
            {"terms": replace(JYPS, starts_at=PLACED + timedelta(seconds=1))},
            Gap.PROGRAMME_NOT_RUNNING,
        ),
        ({"terms": replace(JYPS, ends_at=PLACED)}, Gap.PROGRAMME_NOT_RUNNING),  # end exclusive
        ({"offered": False}, Gap.NOT_OFFERED),
        ({"delivered_at": None}, Gap.NOT_DELIVERED),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_gap(change: dict[str, object], gap: Gap) -> None:
    assert decide(replace(COVERED, **change), DELIVERED).gap == gap  # type: ignore[arg-type]


def test_a_revoked_certificate_wins_over_every_other_gap() -> None:
    """The consumer is told the most decisive reason: nothing else matters once revoked."""
    worst = Facts(
        certificate_valid=False,
        superseded=False,
        terms=None,
        placed_at=None,
        delivered_at=None,
        offered=False,
    )
    assert decide(worst, DELIVERED).gap == Gap.REVOKED


@pytest.mark.parametrize(
    ("gap", "error", "status"),
    [
        (Gap.REVOKED, Conflict, 409),
        (Gap.NO_ORDER, NotFound, 404),
        (Gap.NOT_OFFERED, Forbidden, 403),
        (Gap.NOT_DELIVERED, Conflict, 409),
        (Gap.WINDOW_CLOSED, Conflict, 409),
    ],
)
def test_the_refusal_names_the_gap_in_both_languages(
    gap: Gap, error: type[Exception], status: int
) -> None:
    facts = {
        Gap.REVOKED: replace(COVERED, certificate_valid=False),
        Gap.NO_ORDER: replace(COVERED, terms=None, placed_at=None),
        Gap.NOT_OFFERED: replace(COVERED, offered=False),
        Gap.NOT_DELIVERED: replace(COVERED, delivered_at=None),
        Gap.WINDOW_CLOSED: COVERED,
    }[gap]
    coverage = decide(facts, DELIVERED + timedelta(days=100))
    refusal = coverage.refusal()
    assert isinstance(refusal, error) and refusal.status == status and refusal.code == gap.value
    assert refusal.message.render("zh") == coverage.message.render("zh") and refusal.message.render(
        "en"
    ) == coverage.message.render("en")


def test_the_closed_window_says_how_long_it_was() -> None:
    coverage = decide(COVERED, DELIVERED + timedelta(days=91))
    assert "90 天" in coverage.message.render("zh") and "90 days" in coverage.message.render("en")
