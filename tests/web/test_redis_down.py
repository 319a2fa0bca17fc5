"""Redis stops (or hangs): the consumer's page, /verify, the public API and the staff pages keep
answering, the limits held in each process's memory meanwhile, one warning in the log, and
back to Redis once it answers again. A real redis-server of the test's own is stopped."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from tests.claims_support import Sold, sell
from tests.web.helpers import client_at, login, qr_path, type_code

pytestmark = pytest.mark.usefixtures("cjk_font_path")
FALLBACK = "falling back to in-memory storage"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on a port of its own, stopped and started by the test."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory = _free_port(), directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ephemeral = ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), *ephemeral],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.keys()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def keys(self) -> int:
        with redis.Redis.from_url(self.url, socket_connect_timeout=1) as connection:
            return int(connection.dbsize())


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("REDIS-SERVER MISSING: install redis-server; Redis-down fallback NOT tested")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sold(flow: Any) -> Sold:
    return sell(flow)


@pytest.fixture
def fallback_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    return lambda: sum(FALLBACK in r.getMessage() for r in caplog.records)


def pages(app: Flask, sold: Sold) -> dict[str, int]:
    """What a consumer, the platform and a staff member each open, and their statuses."""
    consumer, staff = client_at(app, "10.0.0.7"), client_at(app, "10.0.0.20")
    login(staff, "inspector1")  # the login form is rate-limited too
    api = f"/api/v1/certificates/{sold.number}"
    return {
        "verify form": consumer.get("/verify").status_code,
        "right code": type_code(consumer, sold.number, sold.issued.check_code),
        "consumer page": consumer.get(qr_path(sold)).status_code,
        "api": consumer.get(api).status_code,
        "staff page": staff.get("/intake").status_code,
    }


ALL_200 = dict.fromkeys(["verify form", "right code", "consumer page", "api", "staff page"], 200)


def test_pages_keep_working_when_redis_stops_and_limits_come_back_with_it(
    tmp_path: Path,
    app: Flask,
    sold: Sold,
    redis_server: RedisServer,
    limited_app: Callable[..., Flask],
    fallback_warnings: Callable[[], int],
) -> None:
    worker = limited_app(tmp_path, app, redis_server.url)
    assert pages(worker, sold) == ALL_200
    assert redis_server.keys() > 0  # the limits were in Redis

    redis_server.stop()
    assert pages(worker, sold) == ALL_200
    assert pages(worker, sold) == ALL_200
    # Limits still hold meanwhile, in this process's memory: the check-code budget (3 here)...
    guesser = client_at(worker, "10.0.0.66")
    assert [type_code(guesser, sold.number, "WRONG") for _ in range(4)] == [404] * 3 + [429]
    assert fallback_warnings() == 1  # once for the outage, not once a request

    # ...and once Redis answers again, the limits go back to it (re-checked with back-off).
    redis_server.start()
    deadline = time.monotonic() + 20
    while redis_server.keys() == 0 and time.monotonic() < deadline:
        assert client_at(worker, "10.0.0.8").get("/verify").status_code == 200
        time.sleep(0.2)
    assert redis_server.keys() > 0


def test_a_redis_that_never_answers_costs_a_timeout_not_a_hang(
    tmp_path: Path,
    app: Flask,
    sold: Sold,
    limited_app: Callable[..., Flask],
    fallback_warnings: Callable[[], int],
) -> None:
    """A Redis host gone silent (connections accepted, nothing answered): not one request
    waits for ever; after the first one the process limits on its own."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        worker = limited_app(tmp_path, app, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        assert pages(worker, sold) == ALL_200
        assert time.monotonic() - started < 10
    assert fallback_warnings() == 1
