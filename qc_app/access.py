"""Tenant isolation in one place: a merchant sees only its own records, as if no others existed."""

from __future__ import annotations

from typing import Protocol

from qc_app.errors import NotFound


class Viewer(Protocol):
    # Read-only members, so a User (whose role is a `Role`, a str) is a Viewer.
    @property
    def role(self) -> str: ...
    @property
    def merchant_id(self) -> int | None: ...


def ensure_visible(viewer: Viewer, merchant_id: int, what_zh: str, what_en: str) -> None:
    """404, not 403, for another merchant's record: the answer must not confirm it exists."""
    if viewer.role == "merchant" and viewer.merchant_id != merchant_id:
        raise NotFound(f"未找到{what_zh}", f"{what_en} not found")
