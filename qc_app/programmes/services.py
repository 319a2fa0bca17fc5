"""Choosing a guarantee programme (假一赔十, 安心购 退一赔三, …) for a listing or an order.

A listing names one (default 假一赔十); an order names its own or takes its listing's when it is
placed, and keeps it: changing the listing later never changes what an earlier order pays.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.programmes.models import DEFAULT_PROGRAMME, Programme
from qc_app.units import clean_text

CODE = re.compile(r"[A-Z0-9_]{1,16}")


def by_id(session: Session) -> dict[int, Programme]:
    """Every programme (a handful of rows), to name the ones listings and orders refer to."""
    return {p.id or 0: p for p in session.exec(select(Programme))}


def running(session: Session, now: datetime) -> list[Programme]:
    """The programmes a merchant or the platform may choose now, the default first."""
    rows = session.exec(select(Programme).order_by(col(Programme.id))).all()
    chosen = [p for p in rows if p.terms().in_force_at(now)]
    return sorted(chosen, key=lambda p: p.code != DEFAULT_PROGRAMME)


def by_code(session: Session, code: object, now: datetime) -> Programme:
    """The programme with this code (default 假一赔十 when empty), if it is running now."""
    typed = clean_text(code, "programme", required=False, max_length=16).upper()
    wanted = typed or DEFAULT_PROGRAMME
    # Codes are short identifiers: anything else is unknown before it reaches the database
    # (a NUL or a lone surrogate would fail in the driver, not as a clear 422).
    found = (
        session.exec(select(Programme).where(Programme.code == wanted)).first()
        if CODE.fullmatch(wanted)
        else None
    )
    if found is None:
        raise ValidationFailed(msg("未知的保障计划：{wanted}", wanted=wanted))
    if not found.terms().in_force_at(now):
        raise ValidationFailed(
            msg("保障计划 {name_zh} 当前未实行", name_zh=found.name_zh, name_en=found.name_en)
        )
    return found
