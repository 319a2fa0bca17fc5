"""Login, sessions, CSRF and route protection, checked through the real pages."""

from __future__ import annotations

import pytest
from sqlmodel import select

from qc_app.auth.models import User
from qc_app.auth.passwords import check_policy, hash_password
from qc_app.errors import ValidationFailed
from tests.conftest import PASSWORD
from tests.web.helpers import csrf, login, post_form

STAFF_PAGES = ["/intake", "/lab", "/review", "/certify", "/packing", "/admin/certificates"]


def test_logout_ends_the_session_for_a_copied_cookie(app, world):
    browser = app.test_client()
    login(browser, "inspector1")
    assert browser.get("/intake").status_code == 200
    stolen = browser.get_cookie("qc_session").value
    post_form(browser, "/intake", "/logout", {})

    thief = app.test_client()
    thief.set_cookie("qc_session", stolen)
    for page in ("/intake", "/certify", "/packing", "/returns"):
        response = thief.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_starts_a_new_session_and_forgets_the_old_one(app, world):
    browser = app.test_client()
    csrf(browser, "/login")
    before = browser.get_cookie("qc_session").value
    login(browser, "merchant1")
    assert browser.get_cookie("qc_session").value != before


def test_wrong_password_and_unknown_user_get_the_same_answer(app, world):
    answers = []
    for username, password in (("merchant1", "wrong-password-1"), ("nobody", PASSWORD)):
        browser = app.test_client()
        response = post_form(
            browser, "/login", "/login", {"username": username, "password": password}
        )
        answers.append((response.status_code, "用户名或密码错误" in response.get_data(True)))
    assert answers == [(401, True), (401, True)]


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, db, world):
    browser = app.test_client()
    login(browser, "merchant1")
    response = browser.post(
        "/m/listings", data={"title": "x", "material_code": "AU990", "price_yuan": "100"}
    )
    assert response.status_code == 400
    assert "表单已失效" in response.get_data(as_text=True)
    from qc_app.listings.services import merchant_listings

    assert [
        listing.title for listing in merchant_listings(session=db, actor=world["merchant1"])
    ] == ["足金戒指"]


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_merchant_cannot_open_staff_pages(app, world, page):
    browser = app.test_client()
    login(browser, "merchant1")
    assert browser.get(page).status_code == 403


@pytest.mark.parametrize("page", [*STAFF_PAGES, "/m/listings", "/m/consignments"])
def test_anonymous_visitors_are_sent_to_login(app, page):
    response = app.test_client().get(page)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_route_declares_its_roles_or_is_public(app):
    unguarded = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static":
            continue
        if not (getattr(view, "qc_roles", None) or getattr(view, "qc_public", False)):
            unguarded.append(rule.rule)
    assert unguarded == []


def test_public_routes_are_exactly_the_consumer_side(app):
    public = sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "qc_public", False)
        }
    )
    assert public == [
        "/",
        "/.well-known/jwks.json",
        "/api/v1/certificates/<number>",
        "/api/v1/openapi.json",
        "/claims/track",
        "/favicon.ico",
        "/healthz",
        "/login",
        # the password's second step: the authenticator's code, or enrolling one
        "/login/code",
        "/login/enrol",
        "/metrics",  # the local network or a bearer token only (tests/web/test_operations.py)
        "/readyz",
        "/v/<number>",
        "/v/<number>/certificate.pdf",
        "/v/<number>/claim",
        "/v/<number>/owner",
        "/v/<number>/photo.jpg",
        "/v/<number>/photos/<digest>.jpg",
        "/verify",
    ]


def test_merchant_cannot_see_another_merchants_item(app, flow):
    item = flow.declare(merchant="merchant1")
    browser = app.test_client()
    login(browser, "merchant2")
    assert browser.get(f"/items/{item.code}").status_code == 404
    login(browser, "merchant1")
    assert browser.get(f"/items/{item.code}").status_code == 200


def test_security_headers_on_pages(app):
    headers = app.test_client().get("/verify").headers
    csp = headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_passwords_are_argon2id_and_policy_applies(db, world):
    assert all(u.password_hash.startswith("$argon2id$") for u in db.exec(select(User)))
    with pytest.raises(ValidationFailed):
        check_policy("short", username="merchant1")
    assert hash_password("x" * 128, username="merchant1").startswith("$argon2id$")
