"""Custody rows from audit events: label, station, mass and photo of each event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from qc_app.items.timeline import custody_rows


@dataclass
class Event:
    action: str
    data: str
    actor: str = "inspector1"
    at: datetime = datetime(2026, 11, 1, tzinfo=UTC)


def test_receive_event_becomes_a_row_with_station_mass_and_photo() -> None:
    data = {"mass_g": "5.03", "photo_sha256": "ab" * 32, "station": "intake@t1"}
    (row,) = custody_rows([Event("receive", json.dumps(data))])
    assert (row.label.render("zh"), row.label.render("en")) == ("收货", "receive")
    assert (row.station, row.mass_g, row.photos) == ("intake@t1", "5.03", ("ab" * 32,))


def test_alarm_and_hold_rows_carry_their_reason() -> None:
    rows = custody_rows(
        [
            Event("alarm_raised", json.dumps({"packing_mass_g": "4.80", "kind": "mass_drift"})),
            Event("hold", json.dumps({"reason": "质量漂移"})),
        ]
    )
    assert rows[0].alarm and rows[0].mass_g == "4.80"
    ((kind, drift),) = rows[0].notes
    assert (kind.render("zh"), drift.render("zh")) == ("警报类型", "质量漂移（疑似调包）")
    assert drift.render("en") == "Mass drift (possible swap)"
    ((reason, text),) = rows[1].notes
    assert (reason.render("en"), text.render("en")) == ("Reason", "质量漂移") and not rows[1].alarm


def test_unknown_action_and_broken_data_still_show() -> None:
    (row,) = custody_rows([Event("something_new", "not json")])
    assert row.label.render("en") == "something_new" and row.notes == ()
