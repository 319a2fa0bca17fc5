"""Behind a load balancer: with QC_TRUSTED_PROXIES=N the per-client limits and the check-code
budget key on the client the proxies saw, never on the proxy, and never on what a client
wrote into X-Forwarded-For itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from qc_app.config import Config, ConfigError
from tests.web.helpers import client_at, type_code

PROXY = "10.0.0.1"


def through_proxy(app: Flask, forwarded_for: str) -> Any:
    """A browser whose requests reach the app through PROXY, with this X-Forwarded-For."""
    client = client_at(app, PROXY)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def statuses(clients: list[Any], path: str = "/verify") -> list[int]:
    return [client.get(path).status_code for client in clients]


def test_consumers_behind_one_proxy_each_have_their_own_limit(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    behind = limited_app(tmp_path, app, "memory://", TRUSTED_PROXIES=1)
    per_minute = int(app.config["QC"].PUBLIC_RATE_LIMIT.split("/")[0])
    consumers = [through_proxy(behind, f"198.51.100.{i}") for i in range(per_minute + 1)]
    assert set(statuses(consumers)) == {200}


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    direct = limited_app(tmp_path, app, "memory://", PUBLIC_RATE_LIMIT="3/minute")
    spoofers = [through_proxy(direct, f"198.51.100.{i}") for i in range(4)]
    assert statuses(spoofers) == [200, 200, 200, 429]


def test_a_client_cannot_pick_its_address_by_prepending_one(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    """The proxy appends the address it saw: that right-most one counts, not the client's."""
    behind = limited_app(
        tmp_path, app, "memory://", TRUSTED_PROXIES=1, PUBLIC_RATE_LIMIT="3/minute"
    )
    spoofer = [through_proxy(behind, f"198.51.100.{i}, 203.0.113.9") for i in range(4)]
    assert statuses(spoofer) == [200, 200, 200, 429]


def test_check_code_budget_is_the_clients_behind_the_proxy(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    behind = limited_app(tmp_path, app, "memory://", TRUSTED_PROXIES=1)
    made_up = f"GTC-{uuid.uuid4().hex[:13].upper()}"
    guesser = through_proxy(behind, "203.0.113.66")
    assert [type_code(guesser, made_up, "AAAA-BBBB") for _ in range(4)] == [404] * 3 + [429]
    neighbour = through_proxy(behind, "203.0.113.7")
    assert type_code(neighbour, made_up, "AAAA-BBBB") == 404


@pytest.mark.parametrize("hops", [0, 2])
def test_create_app_trusts_exactly_the_configured_hops(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask], hops: int
) -> None:
    made = limited_app(tmp_path, app, "memory://", TRUSTED_PROXIES=hops)
    wsgi = made.wsgi_app
    if not hops:
        assert not isinstance(wsgi, ProxyFix)
        return
    assert isinstance(wsgi, ProxyFix)
    assert (wsgi.x_for, wsgi.x_proto, wsgi.x_host, wsgi.x_port, wsgi.x_prefix) == (2, 2, 2, 0, 0)


SECRETS = {"SECRET_KEY": "x" * 40, "QC_KEY_PASSPHRASE": "y" * 40, "QC_CHECK_CODE_KEY": "z" * 40}


@pytest.mark.parametrize(("setting", "hops"), [(None, 0), ("", 0), ("0", 0), ("2", 2)])
def test_config_reads_qc_trusted_proxies(setting: str | None, hops: int) -> None:
    env = SECRETS | ({} if setting is None else {"QC_TRUSTED_PROXIES": setting})
    trusted = Config.from_env(env).TRUSTED_PROXIES
    assert trusted == hops


@pytest.mark.parametrize("setting", ["-1", "yes", "1.5"])
def test_config_refuses_a_hop_count_that_is_not_one(setting: str) -> None:
    with pytest.raises(ConfigError, match="QC_TRUSTED_PROXIES"):
        Config.from_env(SECRETS | {"QC_TRUSTED_PROXIES": setting})
