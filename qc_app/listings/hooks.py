"""How listings react to other packages: hooks connected at start-up (create_app)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from qc_app.listings.services import switch_labels_off
from qc_app.merchants.models import Merchant
from qc_app.merchants.services import programme_left


def labels_off_for_leaver(merchant: Merchant, *, session: Session, now: datetime, **_: Any) -> int:
    """A merchant left the 鉴定验真 programme: its listings lose their labels with it, and
    orders placed before keep their 假一赔十 (the label periods record when)."""
    return switch_labels_off(session, merchant.id or 0, now)


def connect() -> None:
    programme_left.connect(labels_off_for_leaver)
