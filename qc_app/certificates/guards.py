"""One pure guard per certificate transition: the conditions beyond role and state.

Each takes the facts it needs as a frozen dataclass: a missing fact is a type error.
"""

from __future__ import annotations

from dataclasses import dataclass

from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.statemachine import Actor


@dataclass(frozen=True)
class Reason:
    """revoke / reissue: why, as recorded on the certificate and shown on the consumer page."""

    text: str


def guard_revoke(certificate: object, actor: Actor, facts: Reason) -> None:
    if not facts.text.strip():
        raise ValidationFailed(msg("吊销需要原因"))


def guard_reissue(certificate: object, actor: Actor, facts: Reason) -> None:
    if not facts.text.strip():
        raise ValidationFailed(msg("重新签发需要原因"))
