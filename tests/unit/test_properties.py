"""Measured properties on the certificate come from whatever keys the inspection recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from qc_app.certificates.properties import ABSENT, PropertyRow, load_vocabulary

CERTIFICATES_DIR = Path(__file__).resolve().parents[2] / "certificates"


@pytest.fixture(scope="module")
def rows():
    vocabulary = load_vocabulary(CERTIFICATES_DIR)
    return lambda measured: {row.label_en: row for row in vocabulary.rows(measured)}


def test_precious_metal_rows(rows) -> None:
    shown = rows({"mass_g": "5.03", "fineness_permille": "999.2", "metal": "Au"})
    assert shown["Total mass"] == PropertyRow("总质量", "Total mass", "5.03 g")
    assert shown["Fineness (XRF)"].value == "999.2 ‰"
    assert shown["Main element"] == PropertyRow("主要元素", "Main element", "金 Au", "Gold")


def test_shape_and_colour_are_always_shown_as_a_dash_when_absent(rows) -> None:
    shown = rows({"mass_g": "1.00"})
    assert shown["Shape"].value == ABSENT
    assert shown["Colour"].value == ABSENT


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_yes_no_findings_are_named(rows, value) -> None:
    assert rows({"ir_polymer": value})["IR: polymer filling"].value == "检出"


def test_enumerated_values_are_named(rows) -> None:
    assert rows({"uv_fluorescence": "medium"})["UV fluorescence (LW)"].value_en == "Medium"
    assert rows({"growth": "cvd"})["Growth"].value == "化学气相沉积合成"


def test_unknown_key_is_printed_under_its_own_name(rows) -> None:
    shown = rows({"mass_g": "2.00", "hardness_mohs": "6.5"})
    assert shown["hardness_mohs"] == PropertyRow("hardness_mohs", "hardness_mohs", "6.5")


def test_keys_the_vocabulary_lacks_are_named_by_the_rule_set() -> None:
    from qc_app.rules.engine import load_ruleset

    vocabulary = load_vocabulary(CERTIFICATES_DIR)
    fields = load_ruleset("2026.11-2").raw["fields"]
    measured = {"species": "jadeite", "optic": "aggregate", "coating": "false", "dye": True}
    shown = {row.label_en: row for row in vocabulary.rows(measured, fields)}
    assert shown["Identified species"] == PropertyRow(
        "鉴定品种", "Identified species", "翡翠", "jadeite"
    )
    assert shown["Polariscope"].value == "集合体 AGG"
    assert shown["Coated"] == PropertyRow("覆膜", "Coated", "未检出", "Not detected")
    assert not any(row.label_zh in measured for row in shown.values())


def test_observations_are_not_a_property_row(rows) -> None:
    assert "Remarks" not in rows({"mass_g": "2.00", "observations": "轻微划痕"})
