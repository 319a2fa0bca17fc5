"""Inline SVG charts: well-formed, escaped, proportional, and sane with no data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from qc_app.dashboard.charts import bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"


def rects(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}rect"))


def test_bar_chart_draws_one_proportional_bar_per_value() -> None:
    svg = bar_chart([("足金", 10), ("18K金", 5)], title="合格率")
    bars = rects(svg)
    assert len(bars) == 2
    assert int(bars[0].get("width")) == 2 * int(bars[1].get("width"))
    assert "足金" in svg and "<title>合格率</title>" in svg


def test_labels_are_escaped() -> None:
    svg = bar_chart([("<script>alert(1)</script>", 1)], title='"&')
    ET.fromstring(svg)  # still well-formed XML
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_fixed_maximum_makes_percentages_comparable() -> None:
    bars = rects(bar_chart([("a", 50)], title="t", maximum=100))
    assert 0 < int(bars[0].get("width")) < 300


def test_empty_and_zero_data_draw_no_bars_and_do_not_divide_by_zero() -> None:
    assert rects(bar_chart([], title="t")) == []
    assert [r.get("height") for r in rects(column_chart([("11-01", 0)], title="t"))] == ["0"]


def test_column_chart_has_one_column_per_day() -> None:
    svg = column_chart([(f"11-{d:02d}", d) for d in range(1, 15)], title="每日")
    assert len(rects(svg)) == 14
    ET.fromstring(svg)
