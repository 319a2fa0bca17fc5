"""Who may do what, in one place: the roles and the one helper every layer asks.

A workflow transition is its own permission: its table row names the roles allowed, and
`authorize` reads them there. Merchant isolation (`ensure_visible`) answers 404, never 403, so
the answer does not confirm the record exists. Pure: no Flask, no session.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from qc_app.errors import Forbidden, NotFound


class Role(StrEnum):
    MERCHANT = "merchant"
    INSPECTOR = "inspector"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ADMIN = "admin"


LAB = frozenset({Role.ANALYST, Role.REVIEWER})


class Actor(Protocol):
    @property
    def role(self) -> str: ...


class Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def merchant_id(self) -> int | None: ...


class Guarded(Protocol):
    """A workflow transition as authorisation sees it: its roles and its label."""

    @property
    def roles(self) -> frozenset[Role]: ...

    @property
    def label_zh(self) -> str: ...

    @property
    def label_en(self) -> str: ...


def authorize(actor: Actor, what: Guarded) -> None:
    """Refuse (403) unless the actor's role may do `what`: the one check every layer asks."""
    if actor.role in what.roles:
        return
    raise Forbidden(
        f"角色 {actor.role} 不能执行“{what.label_zh}”",
        f"role {actor.role} may not {what.label_en}",
        code="role_not_allowed",
    )


def ensure_visible(viewer: Viewer, merchant_id: int, what_zh: str, what_en: str) -> None:
    """404, not 403, for another merchant's record: the answer must not confirm it exists."""
    if viewer.role == Role.MERCHANT and viewer.merchant_id != merchant_id:
        raise NotFound(f"未找到{what_zh}", f"{what_en} not found")
