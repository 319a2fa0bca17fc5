"""Webhooks delivered by a real `flask qc worker` process: changes made in a web process (on a
real queue) wake the worker after their commit; the receiver on 127.0.0.1 is stopped mid-stream
and started again, and gets every event once, in order per item."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, col, func, select

from qc_app.db import engine_of, new_session, request_session
from qc_app.items.services import hold_item, release_item
from qc_app.outbox.models import Attempt
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, World
from tests.integration.test_outbox import subscribe
from tests.queue_support import WebTier, queue_settings, running_worker, wait_until, worker_env
from tests.webhook_receiver import Receiver


def unanswered(app: Flask) -> int:
    with new_session(engine_of(app)) as db:
        query = select(func.count()).where(col(Attempt.status).is_(None))
        return int(db.exec(query).one())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


def test_a_worker_delivers_through_a_receiver_outage(
    app: Flask,
    flow: Flow,
    db: Session,
    world: World,
    receiver: Receiver,
    web_tier: WebTier,
    cjk_font_path: Path,
) -> None:
    subscribe(app, db, world, receiver)
    queue = queue_settings(app)
    web = web_tier(app, queue)
    items = [flow.receive(flow.declare()) for _ in range(2)]
    env = worker_env(
        app,
        cjk_font_path,
        queue,
        QC_WEBHOOK_RETRY_BASE_SECONDS="0.2",
        QC_WEBHOOK_RETRY_MAX_SECONDS="1",
    )
    with running_worker(env) as worker:
        wait_until(lambda: len(receiver.events) == 2, "the first events", worker)
        receiver.stop()
        for item in items:
            with web.app_context():  # the web process's commits wake the worker
                session = request_session()
                inspector = session.merge(world["inspector1"])
                hold_item(
                    session=session, actor=inspector, code=item.code, reason="复核", now=utcnow()
                )
                release_item(session=session, actor=inspector, code=item.code, now=utcnow())
        wait_until(lambda: unanswered(app) >= 2, "attempts against the stopped receiver", worker)
        receiver.start()
        wait_until(lambda: len(receiver.events) == 6, "every event after the outage", worker)
    assert receiver.refused == 0
    for item in items:
        got = [e["type"] for e in receiver.events if e["data"]["item_code"] == item.code]
        assert got == ["item.received", "item.held", "item.released"]
