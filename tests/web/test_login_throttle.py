"""Failed logins are throttled per account across addresses and per address, with growing
delays, never a lock-out of the owner at their own terminal (security.md §8 check 12).

The documented count (Config.LOGIN_FAILURES_PER_ACCOUNT, "5/minute;…"): five wrong passwords
for one account within a minute are answered 401; from the sixth on, 429 with Retry-After,
whatever the password and wherever it comes from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from qc_app.audit import AuditEvent
from qc_app.config import Config
from tests.conftest import PASSWORD, World
from tests.web.helpers import client_at, csrf, login

FREE_FAILURES = 5  # the first window of Config.LOGIN_FAILURES_PER_ACCOUNT


def try_password(client: Any, username: str, password: str) -> int:
    token = csrf(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )
    return int(response.status_code)


def attack(apps: list[Flask], username: str, attempts: int, addresses: int) -> list[int]:
    """Wrong passwords for `username`, spread round-robin over the workers and addresses."""
    # Each attack from its own range of addresses: the spread is what varies, nothing else.
    net = f"10.{addresses}"
    clients = [client_at(apps[i % len(apps)], f"{net}.0.{i + 1}") for i in range(addresses)]
    return [
        try_password(clients[i % addresses], username, f"wrong-guess-{i:04d}")
        for i in range(attempts)
    ]


@pytest.fixture
def memory_app(
    tmp_path: Path, app: Flask, world: World, limited_app: Callable[..., Flask]
) -> Flask:
    return limited_app(tmp_path, app, "memory://")


def test_the_documented_count_is_in_the_config() -> None:
    spec = Config.LOGIN_FAILURES_PER_ACCOUNT
    assert spec.split(";")[0] == f"{FREE_FAILURES}/minute"


@pytest.mark.parametrize("addresses", [1, 20])
def test_throttling_starts_at_the_documented_count(memory_app: Flask, addresses: int) -> None:
    statuses = attack([memory_app], "inspector1", 100, addresses)
    assert statuses == [401] * FREE_FAILURES + [429] * (100 - FREE_FAILURES)


def test_the_refusal_says_how_long_to_wait(memory_app: Flask) -> None:
    attack([memory_app], "inspector1", FREE_FAILURES, 1)
    client = client_at(memory_app, "10.1.0.1")
    response = client.post(
        "/login",
        data={"csrf_token": csrf(client, "/login"), "username": "inspector1", "password": "x"},
    )
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_throttling_holds_across_four_workers_with_redis(
    tmp_path: Path, app: Flask, world: World, redis_url: str, limited_app: Callable[..., Flask]
) -> None:
    workers = [limited_app(tmp_path / w, app, redis_url) for w in "abcd"]
    for worker in workers[1:]:
        worker.config["RATELIMIT_KEY_PREFIX"] = workers[0].config["RATELIMIT_KEY_PREFIX"]
    for addresses in (1, 20):
        statuses = attack(workers, f"nobody-{addresses}", 100, addresses)
        assert statuses == [401] * FREE_FAILURES + [429] * (100 - FREE_FAILURES)


def test_every_failed_login_is_recorded_even_the_throttled_ones(
    memory_app: Flask, db: Session
) -> None:
    attack([memory_app], "inspector1", 20, 20)
    db.rollback()
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(events) == 20
    reasons = [e.details()["reason"] for e in events]
    assert reasons == ["password"] * FREE_FAILURES + ["throttled"] * 15
    assert {e.details()["address"] for e in events} == {f"10.20.0.{i}" for i in range(1, 21)}
    assert {e.entity_id for e in events} == {"inspector1"}


def test_the_owner_logs_in_at_their_own_terminal_during_an_attack(memory_app: Flask) -> None:
    terminal = client_at(memory_app, "10.1.1.20")
    login(terminal, "inspector1")  # an earlier shift: the terminal now knows the account
    post_logout(terminal)
    assert attack([memory_app], "inspector1", 100, 20)[-1] == 429
    # The attack goes on, yet the owner at their terminal is not slowed...
    login(terminal, "inspector1")
    assert terminal.get("/intake").status_code == 200
    # ...while a stranger's browser, even with the right password, waits.
    stranger = client_at(memory_app, "198.51.100.9")
    assert try_password(stranger, "inspector1", PASSWORD) == 429


def test_the_owner_logs_in_after_the_cool_down(
    tmp_path: Path, app: Flask, world: World, limited_app: Callable[..., Flask]
) -> None:
    quick = limited_app(tmp_path, app, "memory://", LOGIN_FAILURES_PER_ACCOUNT="5/2 seconds")
    assert attack([quick], "inspector1", 10, 20)[-1] == 429
    time.sleep(2.1)
    owner = client_at(quick, "10.1.1.21")
    login(owner, "inspector1")
    assert owner.get("/intake").status_code == 200


def test_one_address_trying_many_accounts_is_throttled(memory_app: Flask) -> None:
    """Per address over all names (LOGIN_FAILURES_PER_ADDRESS, 10 a minute): spraying one
    password over many accounts from one address stops too."""
    client = client_at(memory_app, "203.0.113.99")
    statuses = [try_password(client, f"user{i}", "Summer2024!!") for i in range(12)]
    assert statuses == [401] * 10 + [429] * 2


def test_wrong_second_factor_codes_spend_the_same_budget(memory_app: Flask) -> None:
    client = client_at(memory_app, "203.0.113.50")
    assert try_password(client, "reviewer1", PASSWORD) == 302
    statuses = []
    for _ in range(FREE_FAILURES + 1):
        token = csrf(client, "/login/code")
        response = client.post("/login/code", data={"csrf_token": token, "code": "000000"})
        statuses.append(response.status_code)
    assert statuses == [401] * FREE_FAILURES + [429]


def post_logout(client: Any) -> None:
    token = csrf(client, "/intake")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
