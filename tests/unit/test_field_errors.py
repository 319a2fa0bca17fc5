"""A refused form names every field's problem at once (issue 18: errors next to their field)."""

from __future__ import annotations

import pytest

from qc_app.errors import FieldErrors, ValidationFailed
from qc_app.i18n import msg


def test_nothing_collected_refuses_nothing() -> None:
    FieldErrors().check()


def test_one_problem_is_the_message_itself() -> None:
    errors = FieldErrors()
    errors.add("mass_g", msg("请填写{field}", field="mass"))
    with pytest.raises(ValidationFailed) as refused:
        errors.check()
    assert refused.value.message == msg("请填写{field}", field="mass")
    assert set(refused.value.fields) == {"mass_g"}


def test_every_field_is_named_and_the_first_problem_of_a_field_is_kept() -> None:
    errors = FieldErrors()
    errors.add("mass_g", msg("请填写{field}", field="mass"))
    errors.add("ri", msg("请填写{field}", field="ri"))
    errors.add("mass_g", msg("请填写{field}", field="other"))
    assert "ri" in errors and "sg" not in errors
    with pytest.raises(ValidationFailed) as refused:
        errors.check()
    assert refused.value.fields == {
        "mass_g": msg("请填写{field}", field="mass"),
        "ri": msg("请填写{field}", field="ri"),
    }
    assert "2" in refused.value.message.render("zh")
    assert refused.value.status == 422
