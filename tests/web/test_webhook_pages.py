"""The admin's webhook page: a subscription made there shows its secret once; replays need the
confirmation box; other roles are refused; a POST without its CSRF token changes nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session, select

from qc_app.outbox.models import Delivery, DeliveryState, Subscription
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, World
from tests.integration.test_outbox import deliver
from tests.web.helpers import login, post_form

PAGE = "/admin/webhooks"


def test_a_subscription_shows_its_secret_once(app: Flask, world: World, db: Session) -> None:
    client = app.test_client()
    login(client, "admin1")
    made = post_form(
        client,
        PAGE,
        PAGE,
        {"url": "https://platform.test/hooks", "event_types": ["item.failed", "order.cancelled"]},
    )
    text = made.get_data(as_text=True)
    (subscription,) = db.exec(select(Subscription)).all()
    secret = text.split('id="secret">')[1].split("<")[0]
    assert secret.startswith("whsec_") and subscription.event_types == [
        "item.failed",
        "order.cancelled",
    ]
    listing = client.get(PAGE).get_data(as_text=True)
    assert "https://platform.test/hooks" in listing and secret not in listing
    assert secret not in subscription.secret_sealed
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "Webhook subscriptions" in english


def test_a_bad_url_is_refused_and_saves_nothing(app: Flask, world: World, db: Session) -> None:
    client = app.test_client()
    login(client, "admin1")
    post_form(client, PAGE, PAGE, {"url": "file:///etc/passwd"})
    assert db.exec(select(Subscription)).all() == []


def test_replaying_a_dead_letter_needs_the_confirmation(
    app: Flask, flow: Flow, world: World, db: Session
) -> None:
    client = app.test_client()
    login(client, "admin1")
    post_form(client, PAGE, PAGE, {"url": "http://127.0.0.1:9/nothing-listens"})
    flow.receive(flow.declare())
    deliver(app, db)
    (delivery,) = db.exec(select(Delivery)).all()
    delivery.outcome = DeliveryState.DEAD  # as 24 hours of failures leave it
    delivery.finished_at = utcnow()
    db.add(delivery)
    db.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "Connection refused" in page  # the attempt's answer is shown
    post_form(client, PAGE, f"{PAGE}/replay-dead", {})
    db.commit()  # end the read transaction: see what the request committed
    db.refresh(delivery)
    assert delivery.outcome == DeliveryState.DEAD
    post_form(client, PAGE, f"{PAGE}/replay-dead", {"confirm": "yes"})
    db.commit()  # end the read transaction: see what the request committed
    db.refresh(delivery)
    assert delivery.outcome == DeliveryState.PENDING


def test_other_roles_and_forged_posts_are_refused(app: Flask, world: World, db: Session) -> None:
    client = app.test_client()
    login(client, "merchant1")
    assert client.get(PAGE).status_code == 403
    admin = app.test_client()
    login(admin, "admin1")
    forged: Any = admin.post(PAGE, data={"url": "https://platform.test/hooks"})
    assert forged.status_code == 400
    assert db.exec(select(Subscription)).all() == []
