"""The queue's side of the outbox: the workers deliver. A commit that added events wakes them
(an `outbox.deliver` task, enqueued after the commit); a periodic run every minute picks up
retries and anything a lost wake-up left behind; a retry due within the minute schedules its
own run."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session

from qc_app import queue
from qc_app.db import request_session
from qc_app.outbox.delivery import Policy, deliver_round
from qc_app.outbox.events import PENDING
from qc_app.sqltypes import utcnow

log = logging.getLogger("qc_app")
DELIVER = "outbox.deliver"
WAKE = "outbox.wake-scheduled"


def policy_of(app: Flask) -> Policy:
    qc = app.config["QC"]
    return Policy(
        base=timedelta(seconds=qc.WEBHOOK_RETRY_BASE_SECONDS),
        ceiling=timedelta(seconds=qc.WEBHOOK_RETRY_MAX_SECONDS),
        give_up=timedelta(seconds=qc.WEBHOOK_GIVE_UP_SECONDS),
        timeout=qc.WEBHOOK_TIMEOUT_SECONDS,
    )


@queue.periodic("outbox.deliver_due")
@queue.task(DELIVER)
def deliver(app: Flask) -> None:
    huey = queue.queue_of(app).huey
    huey.delete(WAKE)  # whatever wake-up was waiting, this run is it
    done = deliver_round(
        request_session(),
        key=app.config["QC"].WEBHOOK_SEAL_KEY,
        policy=policy_of(app),
        clock=utcnow,
    )
    if done.next_due is None:
        return
    wait = (done.next_due - utcnow()).total_seconds()
    # A retry due before the periodic run gets a run of its own; one waiting run is enough
    # (the mark in the queue's storage), however many commits woke the workers meanwhile.
    if wait < 60 and huey.put_if_empty(WAKE, "1"):
        queue.schedule(app, DELIVER, delay=max(wait, 0.0))


def _wake(session: Session) -> None:
    if not session.info.pop(PENDING, False) or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("qc_queue")
    # immediate:// (tests not about the queue) would send webhooks inside the request.
    if found is None or found.huey.immediate:
        return
    try:
        queue.enqueue(app, DELIVER)
    except Exception:  # the change is committed: the periodic run delivers it within a minute
        log.warning("outbox: could not wake the workers", exc_info=True)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(PENDING, None)


def init_app(app: Flask) -> None:
    """Wake the workers after each commit that added events (connected once per process)."""
    if not event.contains(Session, "after_commit", _wake):
        event.listen(Session, "after_commit", _wake)
        event.listen(Session, "after_rollback", _forget)
