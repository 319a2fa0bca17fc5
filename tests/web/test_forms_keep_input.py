"""Forms keep what was typed and show every error next to its field (issue 18): each form,
given a bad submission, answers 422 with the form again, every typed value in it (never a
password), each problem by its field (id="<field>-error", aria-invalid on the input), and
nothing stored."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from qc_app.audit import AuditEvent
from qc_app.auth.models import ApiToken, User
from qc_app.claims.models import Claim, Evidence
from qc_app.inspection.models import TestingBody
from qc_app.listings.models import Listing
from qc_app.merchants.models import Membership
from qc_app.orders.models import Order
from qc_app.outbox.models import Subscription
from tests.claims_support import Sold, file, sell
from tests.conftest import PASSWORD, Flow, World
from tests.web.helpers import eligible, file_claim, login, post_form

SECRET = "zq7x-Secret"  # a password typed into a refused form: never shown again


@dataclass(frozen=True)
class Case:
    user: str | None
    form: str  # the page with the form (its CSRF token), {merchant1} filled in
    data: dict[str, str]
    errors: tuple[str, ...]
    kept: dict[str, str] = field(default_factory=dict)
    rows: tuple[Any, ...] = (AuditEvent,)
    action: str | None = None  # where the form posts, when not to its own page
    # rows the form needs first; gives more names to fill in (an item's {code})
    setup: Callable[[Flow], dict[str, str]] | None = None


def _eligible_merchant(flow: Flow) -> dict[str, str]:
    eligible(flow.db, flow.world.merchant_a)
    return {}


def _piece_to_return(flow: Flow) -> dict[str, str]:
    """A piece that failed (18K declared as 足金) and waits to go back to its merchant."""
    item = flow.declare()
    flow.receive(item)
    flow.approve(flow.inspect(item, fineness="750"))
    return {"code": item.code}


CASES = {
    "login": Case(
        None,
        "/login",
        {"username": "admin1", "password": ""},
        ("password",),
        {"username": "admin1"},
    ),
    "new user": Case(
        "admin1",
        "/admin/users/new",
        {
            "username": "newbie7",
            "display_name": "",
            "password": SECRET,
            "role": "merchant",
            "merchant_id": "abc",
        },
        ("display_name", "password", "merchant_id"),
        {"username": "newbie7", "merchant_id": "abc"},
        (AuditEvent, User),
    ),
    "user role": Case(
        "admin1",
        "/admin/users/{merchant1}",
        {"role": "analyst", "testing_body_id": "", "merchant_id": "77"},
        ("testing_body_id",),
        {"merchant_id": "77"},
        action="/admin/users/{merchant1}/role",
    ),
    "user password": Case(
        "admin1",
        "/admin/users/{merchant1}",
        {"password": SECRET},
        ("password",),
        action="/admin/users/{merchant1}/password",
    ),
    "api token": Case(
        "merchant1",
        "/account/tokens",
        {"name": "", "days": "999"},
        ("name", "days"),
        {"days": "999"},
        (AuditEvent, ApiToken),
    ),
    "testing body": Case(
        "admin1",
        "/admin/testing-bodies/new",
        {
            "code": "gtc",  # GTC is the world's lab
            "name_zh": "新检测所",
            "name_en": "",
            "cma_no": "CMA-NEW-1",
            "cert_prefix": "1",
            "accredited_from": "2030-01-01",
            "accredited_until": "2029-01-01",
        },
        ("code", "name_en", "cert_prefix", "accredited_from", "scope"),
        {
            "code": "gtc",
            "name_zh": "新检测所",
            "cma_no": "CMA-NEW-1",
            "accredited_until": "2029-01-01",
        },
        (AuditEvent, TestingBody),
    ),
    "webhook subscription": Case(
        "admin1",
        "/admin/webhooks",
        {"url": "ftp://platform.example/hook", "description": "平台回调", "event_types": "nope"},
        ("url", "event_types"),
        {"url": "ftp://platform.example/hook", "description": "平台回调"},
        (AuditEvent, Subscription),
    ),
    "rights centre join": Case(
        "merchant1",
        "/m/rights",
        {"agreement_sha256": "stale"},  # the box not ticked
        ("accept",),
        rows=(AuditEvent, Membership),
        action="/m/rights/join",
        setup=_eligible_merchant,
    ),
    "orders import": Case(  # no file chosen: said under the file field
        "admin1",
        "/admin/orders",
        {},
        ("file",),
        rows=(AuditEvent, Order),
        action="/admin/orders/import",
    ),
    "return shipped": Case(
        "inspector1",
        "/returns",
        {"waybill_no": "  "},
        ("waybill_no",),
        {"waybill_no": "  "},
        action="/returns/{code}",
        setup=_piece_to_return,
    ),
    "claim tracking": Case(
        None,
        "/claims/track",
        {"number": "CLM-NOPE-1", "secret": ""},
        ("secret",),
        {"number": "CLM-NOPE-1"},
    ),
    "new listing": Case(
        "merchant1",
        "/m/listings",
        {
            "title": "",
            "brand": "Cartier",
            "style": "Love",
            "material_code": "AU750",
            "price_yuan": "12.345",
            "programme": "NOPE",
        },
        ("title", "price_yuan", "programme"),
        {"brand": "Cartier", "style": "Love", "price_yuan": "12.345"},
        (AuditEvent, Listing),
    ),
}


def _count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_refused_form_keeps_what_was_typed_and_names_each_problem_by_its_field(
    app: Flask, world: World, db: Session, flow: Flow, case: Case
) -> None:
    ids = {"merchant1": str(world["merchant1"].id), **(case.setup(flow) if case.setup else {})}
    client = app.test_client()
    if case.user:
        login(client, case.user)
    form = case.form.format(**ids)
    before = {model: _count(db, model) for model in case.rows}

    response = post_form(client, form, (case.action or case.form).format(**ids), case.data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:800]
    for name, value in case.kept.items():
        assert re.search(
            rf'<(input|textarea)[^>]*name="{name}"[^>]*value="{re.escape(escape(value))}"', page
        ), name
    for name in case.errors:
        assert f'id="{name}-error"' in page, name
        assert re.search(
            rf'id="{name}"[^>]*aria-invalid="true"[^>]*aria-describedby="{name}-error"', page
        ), name
    assert SECRET not in page
    assert {model: _count(db, model) for model in case.rows} == before


def test_the_login_form_keeps_the_user_name_after_a_wrong_password(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    response = post_form(client, "/login", "/login", {"username": "admin1", "password": SECRET})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert re.search(r'name="username" value="admin1"', page)
    assert SECRET not in page


def test_a_blank_second_factor_code_is_named_by_its_field(app: Flask, world: World) -> None:
    client = app.test_client()
    first = post_form(client, "/login", "/login", {"username": "admin1", "password": PASSWORD})
    assert first.headers["Location"].endswith("/login/code")
    response = post_form(client, "/login/code", "/login/code", {"code": " "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="code"[^>]*aria-invalid="true"', page)
    assert 'id="code-error"' in page


def _names_each(page: str, *fields: str) -> None:
    for name in fields:
        assert f'id="{name}-error"' in page, name
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', page), name


def test_a_refused_claim_keeps_every_typed_field_and_asks_for_the_files_again(
    app: Flask, db: Session, flow: Any
) -> None:
    sold: Sold = sell(flow)
    typed = {"description": " ", "postage_yuan": "abc", "evidence": (io.BytesIO(b""), "")}
    response = file_claim(app.test_client(), sold, **typed)

    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:800]
    _names_each(page, "description", "postage_yuan", "evidence")
    assert re.search(rf'name="order_no" value="{sold.order.order_no}"', page)
    assert re.search(r'name="reason" value="brand" checked', page)
    assert re.search(r'name="postage_yuan"[^>]*value="abc"', page)
    assert 'id="evidence-again"' in page  # the browser keeps no file: choose them again
    assert _count(db, Claim) == 0 and _count(db, Evidence) == 0


def test_a_refused_dispute_keeps_its_note_field_and_names_the_missing_reason(
    app: Flask, db: Session, flow: Any
) -> None:
    filed = file(flow, sell(flow))
    merchant = app.test_client()
    login(merchant, "merchant1")
    detail = f"/claims/{filed.claim.number}"
    before = _count(db, AuditEvent)

    response = post_form(merchant, detail, f"{detail}/answer", {"answer": "dispute", "note": " "})

    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:800]
    _names_each(page, "note")
    assert 'id="evidence-again"' in page
    assert _count(db, AuditEvent) == before
    db.refresh(filed.claim)
    assert filed.claim.merchant_note is None
