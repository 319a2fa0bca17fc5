"""security.md §8 check 34: the same intake form (one-time token) or Idempotency-Key sent 2-10
times at once records exactly one intake; the token reused with another body is refused (422
on the API; on the scanner page the red refusal panel) and records nothing."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from qc_app.audit import AuditEvent
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item, Photo
from qc_app.sqltypes import utcnow
from qc_app.warehouse.models import OnceToken
from tests.conftest import NO_PHOTO, Flow, jpeg_bytes, other_views
from tests.web.helpers import login
from tests.web.test_warehouse_pages import form_tokens

REFUSED = "此表单（幂等键）已提交过不同的内容，请刷新后重试"
FLASH = re.compile(r'<div class="flash (\w+)" role="alert">([^<]*)</div>')


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs the calls in threads released together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # reported by the assertion on the results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def same_browser(app: Flask, n: int, form_url: str) -> tuple[list[Any], dict[str, str]]:
    """n test clients sharing one inspector's session cookie (one terminal's browser) and the
    tokens of the form it opened at form_url."""
    first = app.test_client()
    login(first, "inspector1")
    tokens = form_tokens(first, form_url)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = first.get_cookie(name)  # now holding the CSRF secret of that form
    assert cookie is not None
    others = [app.test_client() for _ in range(n - 1)]
    for client in others:
        client.set_cookie(name, cookie.value)
    return [first, *others], tokens


def intake_rows(db: Session, item: Item) -> tuple[int, int, int]:
    """(receive events, intake front photos, claimed tokens) for the item."""
    db.rollback()
    events = select(func.count()).where(
        AuditEvent.entity_id == item.code, AuditEvent.action == "receive"
    )
    photos = select(func.count()).where(Photo.item_id == item.id, Photo.view == "front")
    tokens = select(func.count()).select_from(OnceToken)
    return int(db.exec(events).one()), int(db.exec(photos).one()), int(db.exec(tokens).one())


def waiting_item(flow: Flow) -> tuple[str, Item]:
    created = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": flow.world.listing_gold.id, "mass_g": "5.02"}],
        now=utcnow(),
    )
    return created.code, consignment_items(session=flow.db, consignment=created)[0]


def post_intake(client: Any, item: Item, form: dict[str, str], photo: bytes) -> Any:
    return client.post(
        f"/intake/{item.code}",
        data={**form, "photo": (io.BytesIO(photo), "cam.jpg"), **other_views()},
        content_type="multipart/form-data",
    )


def panel(client: Any, consignment: str) -> list[tuple[str, str]]:
    """The (level, message) panels the scanner page shows after a submit."""
    page = client.get(f"/intake/c/{consignment}").get_data(as_text=True)
    return FLASH.findall(page)


@pytest.mark.parametrize("n", [2, 5, 10])
def test_the_same_intake_form_sent_n_times_at_once_records_one_intake(
    app: Flask, db: Session, flow: Flow, n: int
) -> None:
    consignment, item = waiting_item(flow)
    clients, tokens = same_browser(app, n, f"/intake/{item.code}")
    form = {**tokens, "mass_g": "5.03", "c": consignment}
    photo = jpeg_bytes()
    answers = at_once([lambda c=c: post_intake(c, item, form, photo) for c in clients])
    assert [getattr(a, "status_code", a) for a in answers] == [302] * n
    assert intake_rows(db, item) == (1, 1, 1)
    # Every submit answers as the one that counted: received, green.
    for client in clients:
        assert panel(client, consignment) == [("success", f"已收货 {item.code} · 5.03 g")]


@pytest.mark.parametrize("changed", [{"mass_g": "9.99"}, {"damage": "戒圈变形"}, {}], ids=str)
def test_the_intake_token_with_another_body_is_refused_and_records_nothing(
    app: Flask, db: Session, flow: Flow, changed: dict[str, str]
) -> None:
    consignment, item = waiting_item(flow)
    [client], tokens = same_browser(app, 1, f"/intake/{item.code}")
    form = {**tokens, "mass_g": "5.03", "c": consignment}
    post_intake(client, item, form, jpeg_bytes())
    panel(client, consignment)  # the first answer's message is shown and gone
    # {}: the same fields with another photo is another body too.
    again = post_intake(client, item, {**form, **changed}, jpeg_bytes(colour=(9, 9, 9)))
    assert again.status_code == 302
    assert panel(client, consignment) == [("error", REFUSED)]
    assert intake_rows(db, item) == (1, 1, 1)
    db.refresh(item)
    assert item.received_mass_cg == 503 and item.hold_reason is None


def test_two_bodies_racing_on_one_token_record_only_the_winner(
    app: Flask, db: Session, flow: Flow
) -> None:
    consignment, item = waiting_item(flow)
    clients, tokens = same_browser(app, 10, f"/intake/{item.code}")
    form = {**tokens, "c": consignment}
    masses = ["5.03", "5.04"] * 5
    photo = jpeg_bytes()
    calls = [
        lambda c=c, m=m: post_intake(c, item, {**form, "mass_g": m}, photo)
        for c, m in zip(clients, masses, strict=True)
    ]
    answers = at_once(calls)
    assert [getattr(a, "status_code", a) for a in answers] == [302] * 10
    assert intake_rows(db, item) == (1, 1, 1)
    db.refresh(item)
    winner = f"{item.received_mass_cg / 100:.2f}"
    received = ("success", f"已收货 {item.code} · {winner} g")
    for client, mass in zip(clients, masses, strict=True):
        assert panel(client, consignment) == [received if mass == winner else ("error", REFUSED)]


def test_an_idempotency_key_sent_ten_times_at_once_receives_once(
    app: Flask, db: Session, flow: Flow, token: Any
) -> None:
    _, item = waiting_item(flow)
    headers = {**token("inspector1"), "Idempotency-Key": "scanner-app-7"}
    url = f"/api/v1/items/{item.code}/receive"

    def send(mass: str) -> Any:
        return app.test_client().post(url, json={"mass_g": mass, **NO_PHOTO}, headers=headers)

    answers = at_once([lambda: send("5.03")] * 10)
    assert {a.status_code for a in answers} == {200}
    assert all(a.get_json() == answers[0].get_json() for a in answers)
    assert answers[0].get_json()["state"] == "received"
    assert intake_rows(db, item)[0] == 1
    changed = send("5.04")
    assert changed.status_code == 422
    assert changed.get_json()["error"]["message"].startswith("the idempotency key (form)")
    assert intake_rows(db, item)[0] == 1
