"""Dashboard figures from SQL aggregates, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from qc_app.dashboard import stats
from qc_app.sqltypes import utcnow
from tests.conftest import Flow


def test_overview_counts_states_throughput_pass_rates_and_turnaround(
    flow: Flow, cjk_font_path: Any
) -> None:
    flow.certified()
    flow.certified()
    failed = flow.declare()
    flow.receive(failed)
    flow.approve(flow.inspect(failed, fineness="750"))
    flow.declare()

    view = stats.overview(flow.db, today=utcnow().date())
    states = dict(view.states)
    assert (states["certified"], states["return_to_merchant"], states["declared"]) == (2, 1, 1)
    assert sum(states.values()) == 4
    assert view.daily[-1][1:] == (3, 2)  # today: 3 received, 2 certificates
    assert len(view.daily) == 14 and all(r == c == 0 for _, r, c in view.daily[:-1])
    assert [(r.key, r.passed, r.total, r.percent) for r in view.by_material] == [
        ("AU990", 2, 3, 66.7)
    ]
    assert [(r.key, r.total) for r in view.by_merchant] == [("甲店 Shop A", 3)]
    assert view.turnaround.count == 2
    assert view.turnaround.p50_hours is not None and 0 <= view.turnaround.p50_hours < 1
    assert view.claims == 0
    assert view.alarms == []


def test_empty_database_gives_zeros_not_errors(flow: Flow) -> None:
    view = stats.overview(flow.db, today=utcnow().date())
    assert all(n == 0 for _, n in view.states)
    assert view.turnaround.count == 0 and view.turnaround.p50_hours is None
    assert view.by_material == [] and view.by_merchant == []


def test_csv_rows_defuse_spreadsheet_formulas() -> None:
    view = stats.Overview(
        states=[],
        daily=[],
        by_material=[],
        by_merchant=[stats.Rate("=HYPERLINK(1)", 1, 1)],
        turnaround=stats.Turnaround(0, None, None),
        claims=0,
        alarms=[],
    )
    assert ["pass_rate_merchant", "'=HYPERLINK(1)", "1", "1", "100.0"] in stats.csv_rows(view)


def test_turnaround_percentiles_are_nearest_rank(flow: Flow, cjk_font_path: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from qc_app.db import write
    from qc_app.items.models import Item

    for hours in (1, 2, 10):
        item, issued = flow.certified()
        with write(flow.db):
            flow.db.execute(
                update(Item.__table__)
                .where(Item.__table__.c.id == item.id)
                .values(received_at=issued.certificate.issued_at - timedelta(hours=hours))
            )
    found = stats.turnaround(flow.db, today=utcnow().date())
    assert (found.count, found.p50_hours, found.p90_hours) == (3, 2.0, 10.0)
