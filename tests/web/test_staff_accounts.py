"""Staff accounts a platform can audit (issue 13), through the pages: the TOTP second factor
with enrolment and recovery codes (security.md §8 check 14), idle and absolute session limits
(check 8), sessions that end when the admin deactivates a user (check 7), failed logins on an
admin page, the user administration page, and API tokens that expire and can be revoked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from flask import Flask
from sqlmodel import Session, col, select

from qc_app import web
from qc_app.api import views as api_views
from qc_app.audit import AuditEvent
from qc_app.auth.models import ApiToken, RecoveryCode, User
from qc_app.auth.services import create_token
from qc_app.demo import load_demo
from qc_app.sqltypes import utcnow
from tests.auth_support import TOTP
from tests.conftest import PASSWORD, Flow, World, stored_files
from tests.web.helpers import csrf, login, post_form

STAFF = ["inspector1", "analyst1", "reviewer1", "admin1"]


def inspector_pages(item_code: str) -> list[str]:
    """Ten pages an inspector opens every day (check 7 replays a captured cookie on them)."""
    return [
        "/intake",
        f"/intake/{item_code}",
        f"/items/{item_code}",
        "/certify",
        "/certify/batch",
        "/packing",
        "/returns",
        "/dashboard",
        f"/m/items/{item_code}/label.zpl",
        "/account/tokens",
    ]


def password_step(client: Any, username: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/login", "/login", {"username": username, "password": password})


def code_step(client: Any, code: str) -> Any:
    return post_form(client, "/login/code", "/login/code", {"code": code})


def events(db: Session, action: str) -> list[AuditEvent]:
    db.rollback()
    query = select(AuditEvent).where(AuditEvent.action == action)
    return list(db.exec(query.order_by(col(AuditEvent.id))))


# -- check 14: every staff login needs the second factor -----------------------------------------


@pytest.mark.parametrize("username", STAFF)
def test_a_staff_password_alone_opens_no_page(app: Flask, world: World, username: str) -> None:
    client = app.test_client()
    response = password_step(client, username)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    home = client.get("/")
    assert home.status_code == 302 and "/login" not in home.headers["Location"]
    for page in ("/intake", "/lab", "/review", "/admin/certificates", "/account/tokens"):
        refused = client.get(page)
        assert refused.status_code == 302 and "/login" in refused.headers["Location"]


@pytest.mark.parametrize("username", STAFF)
def test_a_staff_login_completes_with_a_real_totp_code(
    app: Flask, world: World, username: str
) -> None:
    client = app.test_client()
    password_step(client, username)
    code = pyotp.TOTP(TOTP.secrets[username]).now()
    response = code_step(client, code)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert client.get("/account/tokens").status_code == 200


def test_a_merchant_without_a_second_factor_logs_in_with_the_password(
    app: Flask, world: World
) -> None:
    response = password_step(app.test_client(), "merchant1")
    assert response.status_code == 302 and response.headers["Location"] == "/m/listings"


def test_a_wrong_or_reused_code_is_refused_and_recorded(
    app: Flask, world: World, db: Session
) -> None:
    first = app.test_client()
    password_step(first, "reviewer1")
    code = TOTP.code("reviewer1")
    assert code_step(first, code).status_code == 302
    thief = app.test_client()
    password_step(thief, "reviewer1")
    reused = code_step(thief, code)
    assert reused.status_code == 401
    assert "动态验证码或恢复码错误" in reused.get_data(as_text=True)
    assert code_step(thief, "12345x").status_code == 401
    failed = events(db, "login_failed")
    assert [(e.entity_id, e.details()["reason"]) for e in failed] == [("reviewer1", "code")] * 2


def test_no_staff_account_of_the_demo_is_without_a_second_factor(app: Flask, db: Session) -> None:
    created = load_demo(session=db, config=app.config["QC"], files=stored_files(app))
    assert created is not None
    staff = [u for u in db.exec(select(User)) if u.role != "merchant"]
    assert len(staff) == 4
    assert all(u.totp_secret and u.totp_confirmed_at for u in staff)
    assert len(created.authenticators) == 4


def enrol_page(client: Any) -> tuple[str, str]:
    page = client.get("/login/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="mono">([A-Z2-7]+)<', page)
    assert secret and 'id="totp-qr" src="data:image/svg+xml;base64,' in page
    return page, secret.group(1)


def test_new_staff_enrol_by_qr_and_get_recovery_codes_once(
    app: Flask, world: World, db: Session
) -> None:
    admin = app.test_client()
    login(admin, "admin1")
    post_form(
        admin,
        "/admin/users/new",
        "/admin/users/new",
        {
            "username": "inspector7",
            "display_name": "赵质检",
            "password": "seven-bridges-of-kaifeng",
            "role": "inspector",
        },
    )
    client = app.test_client()
    response = password_step(client, "inspector7", "seven-bridges-of-kaifeng")
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/intake").status_code == 302  # nothing before the enrolment
    _page, secret = enrol_page(client)
    wrong = post_form(client, "/login/enrol", "/login/enrol", {"code": "000000"})
    assert wrong.status_code == 401
    done = post_form(client, "/login/enrol", "/login/enrol", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/intake").status_code == 200
    # A recovery code stands in for the phone once.
    other = app.test_client()
    password_step(other, "inspector7", "seven-bridges-of-kaifeng")
    assert code_step(other, codes[3]).status_code == 302
    again = app.test_client()
    password_step(again, "inspector7", "seven-bridges-of-kaifeng")
    assert code_step(again, codes[3]).status_code == 401
    db.rollback()
    db.expire_all()
    user = db.exec(select(User).where(User.username == "inspector7")).one()
    assert user.totp_secret == secret and user.totp_confirmed_at is not None
    stored = db.exec(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    assert [e.entity_id for e in events(db, "second_factor_enrolled")] == ["inspector7"]


def test_a_pending_login_expires(app: Flask, world: World, monkeypatch: Any) -> None:
    client = app.test_client()
    password_step(client, "analyst1")
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr("qc_app.auth.views.now", lambda: later)
    response = client.get("/login/code")
    assert response.status_code == 401 and "登录已过期" in response.get_data(as_text=True)


# -- check 8: idle and absolute limits, with a frozen clock --------------------------------------


class Clock:
    def __init__(self, monkeypatch: Any) -> None:
        self.at = utcnow()
        monkeypatch.setattr(web, "now", lambda: self.at)

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def signed_in_page(client: Any, page: str) -> bool:
    response = client.get(page)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    return bool(response.status_code == 200)


@pytest.mark.parametrize(
    ("username", "page", "idle_minutes"),
    [
        ("inspector1", "/intake", 15),
        ("analyst1", "/lab", 15),
        ("reviewer1", "/review", 15),
        ("merchant1", "/m/listings", 30),
        ("admin1", "/admin/users", 30),
    ],
)
def test_idle_limit_per_role(
    app: Flask, world: World, monkeypatch: Any, username: str, page: str, idle_minutes: int
) -> None:
    client = app.test_client()
    login(client, username)
    clock = Clock(monkeypatch)
    clock.advance(minutes=idle_minutes - 0.5)
    assert signed_in_page(client, page)  # active again: the idle time starts over
    clock.advance(minutes=idle_minutes + 0.5)
    assert not signed_in_page(client, page)


@pytest.mark.parametrize(
    ("username", "page"), [("inspector1", "/intake"), ("admin1", "/admin/users")]
)
def test_absolute_limit_of_twelve_hours(
    app: Flask, world: World, monkeypatch: Any, username: str, page: str
) -> None:
    client = app.test_client()
    login(client, username)
    clock = Clock(monkeypatch)
    for _ in range(71):  # busy all shift: a page every ten minutes
        clock.advance(minutes=10)
        assert signed_in_page(client, page)
    clock.advance(minutes=11)  # 12 h 1 min after the login
    assert not signed_in_page(client, page)


def test_the_limits_come_from_the_config(app: Flask) -> None:
    qc = app.config["QC"]
    assert {role.value: t.total_seconds() / 60 for role, t in qc.IDLE_TIMEOUTS.items()} == {
        "inspector": 15,
        "analyst": 15,
        "reviewer": 15,
        "merchant": 30,
        "admin": 30,
    }
    assert timedelta(hours=12) == qc.ABSOLUTE_TIMEOUT


# -- check 7: deactivating a user ends their sessions on the server ------------------------------


def deactivate(admin: Any, user: User) -> Any:
    page = f"/admin/users/{user.id}"
    return post_form(admin, page, f"{page}/deactivate", {})


def test_deactivation_ends_a_captured_session_on_ten_pages(app: Flask, flow: Flow) -> None:
    world = flow.world
    terminal = app.test_client()
    login(terminal, "inspector1")
    pages = inspector_pages(flow.declare().code)
    assert all(signed_in_page(terminal, page) for page in pages)
    stolen = terminal.get_cookie("qc_session").value
    admin = app.test_client()
    login(admin, "admin1")
    assert deactivate(admin, world["inspector1"]).status_code == 302
    thief = app.test_client()
    thief.set_cookie("qc_session", stolen)
    assert sum(signed_in_page(thief, page) for page in pages) == 0
    assert password_step(app.test_client(), "inspector1").status_code == 401


def test_an_admin_cannot_deactivate_themselves(app: Flask, world: World) -> None:
    admin = app.test_client()
    login(admin, "admin1")
    refused = deactivate(admin, world["admin1"])
    assert refused.status_code == 409 and "不能停用自己的账号" in refused.get_data(as_text=True)
    assert admin.get("/admin/users").status_code == 200


# -- failed logins on the admin page --------------------------------------------------------------


def test_failed_logins_are_committed_and_shown_to_the_admin(
    app: Flask, world: World, db: Session
) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert password_step(client, "inspector1", "not-the-password").status_code == 401
    assert password_step(client, "ghost", "whatever-it-is").status_code == 401
    recorded = events(db, "login_failed")
    assert [(e.entity_id, e.details()["address"]) for e in recorded] == [
        ("inspector1", "192.0.2.44"),
        ("ghost", "192.0.2.44"),
    ]
    admin = app.test_client()
    login(admin, "admin1")
    page = admin.get("/admin/logins").get_data(as_text=True)
    assert "ghost" in page and "192.0.2.44" in page and "用户名或密码错误" in page
    merchant = app.test_client()
    login(merchant, "merchant1")
    assert merchant.get("/admin/logins").status_code == 403


# -- the user administration page -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("password1234", "常见密码"),
        ("inspector7-is-me", "不能包含用户名"),
        ("short-one", "12"),
        ("demo-password", "常见密码"),
    ],
)
def test_weak_passwords_are_refused_on_the_admin_page(
    app: Flask, world: World, password: str, refusal: str
) -> None:
    admin = app.test_client()
    login(admin, "admin1")
    fields = {"username": "inspector7", "display_name": "x", "password": password}
    response = post_form(
        admin, "/admin/users/new", "/admin/users/new", fields | {"role": "inspector"}
    )
    assert response.status_code == 422 and refusal in response.get_data(as_text=True)


def test_role_change_and_password_reset_are_audited_and_end_sessions(
    app: Flask, world: World, db: Session
) -> None:
    analyst = app.test_client()
    login(analyst, "analyst1")
    admin = app.test_client()
    login(admin, "admin1")
    user = world["analyst1"]
    page = f"/admin/users/{user.id}"
    changed = post_form(
        admin, page, f"{page}/role", {"role": "reviewer", "testing_body_id": str(world.lab.id)}
    )
    assert changed.status_code == 302
    assert analyst.get("/lab").status_code == 302  # signed out: log in again under the new role
    post_form(admin, page, f"{page}/password", {"password": "a-brand-new-secret-phrase"})
    assert password_step(app.test_client(), "analyst1").status_code == 401
    assert (
        password_step(app.test_client(), "analyst1", "a-brand-new-secret-phrase").status_code == 302
    )
    db.rollback()
    db.expire_all()
    assert db.get(User, user.id).role == "reviewer"  # type: ignore[union-attr]
    role_event = events(db, "user_role_changed")[0]
    assert (role_event.actor, role_event.details()["before"]["role"]) == ("admin1", "analyst")
    assert [e.actor for e in events(db, "password_reset")] == ["admin1"]


def test_non_admins_cannot_open_the_user_pages(app: Flask, world: World) -> None:
    for username in ("merchant1", "inspector1", "reviewer1"):
        client = app.test_client()
        login(client, username)
        assert client.get("/admin/users").status_code == 403
        assert client.get(f"/admin/users/{world['admin1'].id}").status_code == 403


# -- API tokens: named, expiring, listed, revocable -----------------------------------------------


def test_tokens_are_listed_with_name_created_and_last_use_and_can_be_revoked(
    app: Flask, world: World, db: Session
) -> None:
    _row, token = create_token(
        session=db, username="merchant1", name="ERP sync", now=utcnow(), code=""
    )
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/listings", headers=bearer).status_code == 200
    admin = app.test_client()
    login(admin, "admin1")
    page = f"/admin/users/{world['merchant1'].id}"
    db.rollback()
    db.expire_all()
    row = db.exec(select(ApiToken).where(ApiToken.name == "ERP sync")).one()
    assert row.last_used_at is not None
    assert row.expires_at - row.created_at == timedelta(days=90)
    listing = admin.get(page).get_data(as_text=True)
    for shown in (
        "ERP sync",
        # in China time (QC_TIMEZONE's default), stored in UTC
        f"{row.created_at.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}",
        f"{row.last_used_at.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}",
    ):
        assert shown in listing
    post_form(admin, page, f"{page}/revoke-token", {"token_id": str(row.id)})
    assert client.get("/api/v1/listings", headers=bearer).status_code == 401
    assert [e.actor for e in events(db, "token_revoked")] == ["admin1"]


def test_tokens_expire(app: Flask, world: World, db: Session, monkeypatch: Any) -> None:
    _row, token = create_token(
        session=db, username="merchant1", name="short", lifetime=timedelta(days=7), now=utcnow()
    )
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    later: datetime = utcnow() + timedelta(days=7, minutes=1)
    assert client.get("/api/v1/listings", headers=bearer).status_code == 200
    monkeypatch.setattr(api_views, "now", lambda: later)
    assert client.get("/api/v1/listings", headers=bearer).status_code == 401


def test_staff_tokens_need_the_second_factor(app: Flask, world: World) -> None:
    client = app.test_client()
    login(client, "inspector1")
    fields = {"name": "scanner 3", "days": "30"}
    refused = post_form(client, "/account/tokens", "/account/tokens", fields | {"code": "123"})
    assert refused.status_code == 401
    made = post_form(
        client, "/account/tokens", "/account/tokens", fields | {"code": TOTP.code("inspector1")}
    )
    assert made.status_code == 200
    token = re.search(r'id="new-token" class="mono">(qct_[\w-]+)<', made.get_data(as_text=True))
    assert token
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert app.test_client().get("/api/v1/items/QC-NONE", headers=bearer).status_code == 404


def test_a_staff_token_without_a_code_is_refused_by_the_service(db: Session, world: World) -> None:
    from qc_app.errors import Unauthorized

    with pytest.raises(Unauthorized):
        create_token(session=db, username="admin1", now=utcnow())


def test_csrf_is_checked_on_the_account_pages(app: Flask, world: World) -> None:
    admin = app.test_client()
    login(admin, "admin1")
    response = admin.post(f"/admin/users/{world['inspector1'].id}/deactivate")
    assert response.status_code == 400
    assert csrf(admin, "/admin/users")
