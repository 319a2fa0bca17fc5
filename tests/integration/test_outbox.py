"""The outbox against a real HTTP receiver on 127.0.0.1, on SQLite and PostgreSQL: an event is
written iff its change commits; positions follow commits; deliveries are signed, in order per
item, survive a receiver that goes down and comes back, are dead-lettered and replayed; the
pull feed pages in commit order and shows a merchant only its own shop's events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from qc_app.db import engine_of, new_session, write
from qc_app.errors import NotFound, ValidationFailed
from qc_app.items.services import hold_item, release_item
from qc_app.outbox import services
from qc_app.outbox.delivery import Policy, deliver_round
from qc_app.outbox.events import emit, sequence
from qc_app.outbox.models import Delivery, DeliveryState, OutboxEvent
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, World
from tests.webhook_receiver import Receiver

QUICK = Policy(base=timedelta(milliseconds=10), ceiling=timedelta(milliseconds=50), timeout=5.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


def subscribe(app: Flask, db: Session, world: World, receiver: Receiver, **kw: Any) -> int:
    subscription, secret = services.create_subscription(
        session=db,
        actor=world["admin1"],
        url=receiver.url,
        event_types=kw.get("event_types"),
        description="test platform",
        key=app.config["QC"].WEBHOOK_SEAL_KEY,
        now=utcnow(),
    )
    receiver.secret = secret
    return subscription.id or 0


def deliver(app: Flask, db: Session, policy: Policy = QUICK) -> Any:
    return deliver_round(db, key=app.config["QC"].WEBHOOK_SEAL_KEY, policy=policy, clock=utcnow)


def deliver_until(app: Flask, db: Session, done: Any, policy: Policy = QUICK) -> None:
    deadline = time.monotonic() + 120
    while not done():
        assert time.monotonic() < deadline, "deliveries never finished"
        deliver(app, db, policy)
        time.sleep(0.02)


def events(db: Session) -> list[OutboxEvent]:
    db.expire_all()
    return list(db.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))))


def test_a_transition_writes_its_event_with_what_the_platform_needs(
    flow: Flow, db: Session, world: World
) -> None:
    item = flow.receive(flow.declare())
    (event,) = [e for e in events(db) if e.type == "item.received"]
    assert event.subject == f"item:{item.code}"
    assert event.merchant_id == world.merchant_a.id
    assert event.data["item_code"] == item.code and event.data["state"] == "received"
    assert event.uid.startswith("evt_")
    # No staff personal data: no name, no user id, only what identifies the piece and the shop.
    assert set(event.data) == {"item_code", "listing_id", "merchant_id", "state"}
    assert "inspector1" not in str(event.data)


def test_a_rolled_back_change_writes_no_event(flow: Flow, db: Session, world: World) -> None:
    item = flow.receive(flow.declare())
    before = len(events(db))
    with pytest.raises(RuntimeError), write(db):
        emit(db, type="item.held", subject=f"item:{item.code}", merchant_id=1, at=utcnow())
        raise RuntimeError("the change fails after its event was added")
    assert len(events(db)) == before


def test_the_lifecycle_reports_hold_release_and_certificate(
    flow: Flow, db: Session, world: World
) -> None:
    item, issued = flow.certified()
    hold_item(session=db, actor=world["inspector1"], code=item.code, reason="复核", now=utcnow())
    release_item(session=db, actor=world["inspector1"], code=item.code, now=utcnow())
    mine = [e for e in events(db) if e.subject == f"item:{item.code}"]
    assert [e.type for e in mine] == [
        "item.received",
        "certificate.issued",
        "item.held",
        "item.released",
    ]
    assert mine[1].data["certificate_number"] == issued.certificate.number
    assert mine[2].data["reason"] == "复核"


def test_positions_follow_commits_not_ids(app: Flask, db: Session) -> None:
    """An event inserted first may commit last: it gets the later position, and a reader who
    paged past the first commit still reads it. On PostgreSQL two transactions overlap for
    real; SQLite has one writer at a time, so there the late commit is an event given a lower
    id outright (as PostgreSQL's sequence hands out ids before commit)."""
    if engine_of(app).dialect.name == "postgresql":
        late = new_session(engine_of(app))
        with write(late):
            emit(late, type="merchant.joined", subject="merchant:1", merchant_id=1, at=utcnow())
            late.flush()
            with write(db):
                emit(db, type="merchant.left", subject="merchant:2", merchant_id=2, at=utcnow())
            sequence(db, now=utcnow())
        late.close()
    else:
        with write(db):
            first = emit(db, type="merchant.left", subject="merchant:2", merchant_id=2, at=utcnow())
            first.id = 1000
        sequence(db, now=utcnow())
        with write(db):
            emit(
                db, type="merchant.joined", subject="merchant:1", merchant_id=1, at=utcnow()
            ).id = 500
    sequence(db, now=utcnow())
    rows = {e.type: e for e in events(db)}
    assert (rows["merchant.joined"].id or 0) < (rows["merchant.left"].id or 0)
    assert (rows["merchant.joined"].position or 0) > (rows["merchant.left"].position or 0)


def test_deliveries_are_signed_in_order_and_survive_a_receiver_that_goes_down(
    app: Flask, flow: Flow, db: Session, world: World, receiver: Receiver
) -> None:
    subscribe(app, db, world, receiver)
    first = flow.receive(flow.declare())
    deliver_until(app, db, lambda: len(receiver.events) == 1)
    receiver.stop()
    second = flow.declare()
    flow.receive(second)
    for code in (first.code, second.code):
        hold_item(session=db, actor=world["inspector1"], code=code, reason="复核", now=utcnow())
        release_item(session=db, actor=world["inspector1"], code=code, now=utcnow())
    round_ = deliver(app, db)
    assert round_.sent == 2  # one per item: each item's next event waits for the one before
    pending = db.exec(select(Delivery).where(Delivery.outcome == DeliveryState.PENDING)).all()
    assert len(pending) == 5 and sum(d.attempts for d in pending) == 2
    receiver.start()  # back on the same port
    deliver_until(app, db, lambda: len(receiver.events) == 6)
    assert receiver.refused == 0
    for item in (first, second):
        got = [e for e in receiver.events if e["data"]["item_code"] == item.code]
        assert [e["type"] for e in got] == ["item.received", "item.held", "item.released"]
        assert [int(e["cursor"]) for e in got] == sorted(int(e["cursor"]) for e in got)


def test_a_replay_is_dropped_by_the_receiver_as_a_duplicate(
    app: Flask, flow: Flow, db: Session, world: World, receiver: Receiver
) -> None:
    subscribe(app, db, world, receiver)
    flow.receive(flow.declare())
    deliver_until(app, db, lambda: len(receiver.events) == 1)
    (delivery,) = db.exec(select(Delivery)).all()
    services.replay(session=db, actor=world["admin1"], delivery_id=delivery.id or 0, now=utcnow())
    deliver_until(app, db, lambda: receiver.duplicates == 1)
    assert len(receiver.events) == 1


def test_a_failing_endpoint_is_dead_lettered_then_replayed(
    app: Flask, flow: Flow, db: Session, world: World, receiver: Receiver
) -> None:
    subscribe(app, db, world, receiver)
    receiver.failing = True
    flow.receive(flow.declare())
    give_up_at_once = Policy(give_up=timedelta(0))
    deliver(app, db, give_up_at_once)
    (dead,) = db.exec(select(Delivery)).all()
    assert dead.outcome == DeliveryState.DEAD and dead.last_status == 500
    receiver.failing = False
    with pytest.raises(NotFound):
        services.replay(session=db, actor=world["admin1"], delivery_id=0, now=utcnow())
    count = services.replay_dead(
        session=db, actor=world["admin1"], subscription_id=None, now=utcnow()
    )
    assert count == 1
    with pytest.raises(ValidationFailed):  # pending again: nothing to replay
        services.replay(session=db, actor=world["admin1"], delivery_id=dead.id or 0, now=utcnow())
    deliver_until(app, db, lambda: len(receiver.events) == 1)
    rows = services.deliveries(session=db, actor=world["admin1"])
    assert [a.status for a in rows[0].attempts] == [500, 204]


def test_a_subscription_gets_only_the_types_it_asked_for(
    app: Flask, flow: Flow, db: Session, world: World, receiver: Receiver
) -> None:
    subscribe(app, db, world, receiver, event_types=["certificate.issued"])
    flow.certified()
    deliver_until(app, db, lambda: len(receiver.events) == 1)
    assert receiver.types() == ["certificate.issued"]


def test_the_feed_pages_in_commit_order_and_a_merchant_sees_its_own(
    app: Flask, flow: Flow, db: Session, world: World, token: Any
) -> None:
    client = app.test_client()
    flow.receive(flow.declare())
    flow.receive(flow.declare(listing=world.listing_b, merchant="merchant2"))
    flow.receive(flow.declare())
    admin = token("admin1")
    first = client.get("/api/v1/events?limit=2", headers=admin).get_json()
    assert len(first["events"]) == 2
    rest = client.get(f"/api/v1/events?after={first['cursor']}", headers=admin).get_json()
    cursors = [int(e["cursor"]) for e in first["events"] + rest["events"]]
    assert cursors == sorted(cursors) and len(cursors) == 3
    mine = client.get("/api/v1/events", headers=token("merchant2")).get_json()["events"]
    assert [e["data"]["merchant_id"] for e in mine] == [world.merchant_b.id]
    refused = client.get("/api/v1/events", headers=token("inspector1"))
    assert refused.status_code == 403
    assert client.get("/api/v1/events?limit=0", headers=admin).status_code == 422


def test_the_api_manages_subscriptions_and_shows_a_secret_once(
    app: Flask, world: World, token: Any
) -> None:
    client = app.test_client()
    admin = token("admin1")
    made = client.post(
        "/api/v1/webhooks",
        json={"url": "https://platform.test/qc", "event_types": ["order.cancelled"]},
        headers=admin,
    )
    assert made.status_code == 201
    secret, number = made.get_json()["secret"], made.get_json()["id"]
    listed = client.get("/api/v1/webhooks", headers=admin).get_json()
    assert secret not in str(listed) and listed["webhooks"][0]["event_types"] == ["order.cancelled"]
    paused = client.post(f"/api/v1/webhooks/{number}/active", json={"active": False}, headers=admin)
    assert paused.get_json()["active"] is False
    bad = client.post("/api/v1/webhooks", json={"url": "ftp://x", "event_types": []}, headers=admin)
    assert bad.status_code == 422
    unknown = client.post(
        "/api/v1/webhooks", json={"url": "https://x.test", "event_types": ["nope"]}, headers=admin
    )
    assert unknown.status_code == 422
    assert client.get("/api/v1/webhooks", headers=token("merchant1")).status_code == 403
    deliveries = client.get(f"/api/v1/webhooks/{number}/deliveries?state=dead", headers=admin)
    assert deliveries.get_json() == {"deliveries": []}
    assert client.get("/api/v1/webhooks/999/deliveries", headers=admin).status_code == 404
