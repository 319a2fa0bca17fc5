"""One pure guard per claim transition: the conditions beyond role, visibility and state.

Each takes the facts it needs as a frozen dataclass: a missing fact is a type error.
"""

from __future__ import annotations

from dataclasses import dataclass

from qc_app.claims.models import RejectionGround
from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.statemachine import Actor


@dataclass(frozen=True)
class Note:
    """merchant_dispute / reinspect: the reasons given."""

    note: str | None


@dataclass(frozen=True)
class Postage:
    """uphold: what the platform pays for the consumer's postage."""

    postage_fen: object


@dataclass(frozen=True)
class Ground:
    """reject: one of the rejection grounds."""

    ground: str | None


def _text(value: str | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def guard_dispute(claim: object, actor: Actor, facts: Note) -> None:
    if not _text(facts.note):
        raise ValidationFailed(msg("异议须说明理由"))


def guard_reinspect(claim: object, actor: Actor, facts: Note) -> None:
    if not _text(facts.note):
        raise ValidationFailed(msg("复检须说明原因"))


def guard_uphold(claim: object, actor: Actor, facts: Postage) -> None:
    postage = facts.postage_fen
    if not isinstance(postage, int) or isinstance(postage, bool) or postage < 0:
        raise ValidationFailed(msg("邮费须为非负整数（分）"))


def guard_reject(claim: object, actor: Actor, facts: Ground) -> None:
    if facts.ground not in set(RejectionGround):
        raise ValidationFailed(msg("驳回须选择驳回理由"))
