"""The admin's webhook page in Chromium: subscribe (the secret shown once), see a delivery's
failed attempt, replay every dead letter only once the confirmation is ticked, pause."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from qc_app.outbox.models import Delivery, DeliveryState, Subscription
from qc_app.sqltypes import utcnow
from tests.browser.steps import log_in
from tests.conftest import Flow
from tests.integration.test_outbox import deliver


def test_an_admin_subscribes_sees_attempts_and_replays(
    page: Page, live_server: str, app: Flask, flow: Flow, db: Session
) -> None:
    log_in(page, live_server, "admin1")
    page.goto(f"{live_server}/admin/webhooks")
    page.locator("input[name=url]").fill("http://127.0.0.1:9/nothing-listens")
    page.get_by_role("button", name="创建订阅").click()
    expect(page.locator("#secret")).to_contain_text("whsec_")
    flow.receive(flow.declare())
    deliver(app, db)
    (delivery,) = db.exec(select(Delivery)).all()
    delivery.outcome = DeliveryState.DEAD  # as a day of failures leaves it
    delivery.finished_at = utcnow()
    db.add(delivery)
    db.commit()
    page.goto(f"{live_server}/admin/webhooks")
    expect(page.locator("tr.delivery")).to_contain_text("item.received")
    expect(page.locator("tr.delivery")).to_contain_text("Connection refused")
    page.get_by_role("button", name="重放全部死信").click()  # unticked: the browser holds it
    db.commit()
    db.refresh(delivery)
    assert delivery.outcome == DeliveryState.DEAD
    page.get_by_label("确认重新投递全部死信").check()
    page.get_by_role("button", name="重放全部死信").click()
    expect(page.locator(".flash.success")).to_contain_text("已重新排队 1 条死信投递")
    db.commit()
    db.refresh(delivery)
    assert delivery.outcome == DeliveryState.PENDING
    page.get_by_role("button", name="暂停").click()
    expect(page.locator(".flash.success")).to_contain_text("已暂停投递")
    db.commit()
    assert db.exec(select(Subscription)).one().active is False
