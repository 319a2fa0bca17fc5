"""Batch issuance seen later: move a batch's clock back, as if its lease had run out since."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from qc_app.certificates.batches import BATCH_LEASE
from qc_app.certificates.models import IssuanceBatch
from qc_app.db import engine_of, new_session, write

LATER = BATCH_LEASE + timedelta(seconds=1)


def time_passes(app: Flask, batch_id: int, by: timedelta = LATER) -> None:
    """The batch's times move back `by`, as if that long had passed since its last step."""
    with new_session(engine_of(app)) as db:
        batch = db.get_one(IssuanceBatch, batch_id)
        with write(db, batch):
            batch.created_at -= by
            batch.stepped_at = batch.stepped_at and batch.stepped_at - by
            batch.step_started_at = batch.step_started_at and batch.step_started_at - by
            db.add(batch)
