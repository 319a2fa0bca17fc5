"""The balance tolerance, the intake discrepancy and the intake/lab/packing drift: pure."""

from __future__ import annotations

import pytest

from qc_app.warehouse.mass import Reading, drift, intake_finding, tolerance_cg


@pytest.mark.parametrize(
    ("mass_cg", "expected"), [(1, 2), (502, 2), (2999, 2), (3000, 3), (50000, 50)]
)
def test_tolerance_is_two_readings_or_a_tenth_of_a_percent(mass_cg: int, expected: int) -> None:
    assert tolerance_cg(mass_cg) == expected


@pytest.mark.parametrize(
    ("measured", "held"), [(502, False), (500, False), (499, True), (900, False)]
)
def test_intake_holds_only_a_shortfall_beyond_the_tolerance(measured: int, held: bool) -> None:
    finding = intake_finding(502, measured)
    assert (finding is not None) == held
    if finding:
        assert (
            finding.code == "mass_short"
            and "4.99" in finding.message.render("zh")
            and "5.02" in finding.message.render("en")
        )


def test_readings_within_the_balance_tolerance_are_no_drift() -> None:
    assert drift([Reading("intake", 503), Reading("lab", 504), Reading("packing", 502)]) is None


def test_a_swapped_stone_is_a_drift_naming_every_reading() -> None:
    found = drift([Reading("intake", 503), Reading("lab", 503), Reading("packing", 480)])
    assert found is not None and found.code == "mass_drift"
    assert "打包 4.80 g" in found.message.render("zh") and "intake 5.03 g" in found.message.render(
        "en"
    )


def test_a_single_reading_cannot_drift() -> None:
    assert drift([Reading("packing", 480)]) is None
