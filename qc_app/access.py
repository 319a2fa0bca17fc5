"""Tenant isolation in one place: a merchant sees only its own records, as if no others existed."""

from __future__ import annotations

from typing import Protocol

from qc_app.errors import NotFound
from qc_app.i18n import Message


class Viewer(Protocol):
    role: str
    merchant_id: int | None


def ensure_visible(viewer: Viewer, merchant_id: int, missing: Message) -> None:
    """404, not 403, for another merchant's record: the answer must not confirm it exists, so
    `missing` is the same message the record's own lookup gives when there is no such row."""
    if viewer.role == "merchant" and viewer.merchant_id != merchant_id:
        raise NotFound(missing)
