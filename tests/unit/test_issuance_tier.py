"""The issuance tier in the configuration: the key passphrase is optional (web processes run
without it) and a signing path without it names what is missing; the queue's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey

from qc_app.config import Config, ConfigError, SigningUnavailable
from qc_app.queue import make_huey

SECRETS = {"SECRET_KEY": "x" * 40, "QC_CHECK_CODE_KEY": "z" * 40}


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**SECRETS, "QC_INSTANCE_PATH": str(tmp_path), **extra}


def test_a_web_process_starts_without_the_passphrase(tmp_path: Path) -> None:
    config = Config.from_env(env(tmp_path))
    assert config.KEY_PASSPHRASE is None
    with pytest.raises(SigningUnavailable, match="QC_KEY_PASSPHRASE is not set"):
        config.signing_passphrase()


def test_the_issuance_tier_has_it(tmp_path: Path) -> None:
    config = Config.from_env(env(tmp_path, QC_KEY_PASSPHRASE="y" * 40))
    assert config.signing_passphrase() == "y" * 40


def test_a_short_passphrase_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="QC_KEY_PASSPHRASE is shorter"):
        Config.from_env(env(tmp_path, QC_KEY_PASSPHRASE="short"))


def test_the_queue_defaults_to_sqlite_in_the_instance(tmp_path: Path) -> None:
    config, where = Config.from_env(env(tmp_path)), tmp_path.resolve() / "queue.db"
    assert f"sqlite:///{where}" == config.QUEUE_URL
    assert isinstance(make_huey(config.QUEUE_URL), SqliteHuey)


def test_redis_carries_the_queue_when_set(tmp_path: Path) -> None:
    config = Config.from_env(env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15"))
    assert config.QUEUE_URL == "redis://127.0.0.1:6379/15"
    assert isinstance(make_huey(config.QUEUE_URL), RedisHuey)
    explicit = Config.from_env(
        env(tmp_path, REDIS_URL="redis://a/1", QC_QUEUE_URL=f"sqlite:///{tmp_path}/q.db")
    )
    assert explicit.QUEUE_URL.startswith("sqlite:///")


def test_an_unknown_queue_url_is_refused() -> None:
    with pytest.raises(ValueError, match="QC_QUEUE_URL"):
        make_huey("amqp://elsewhere")


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_wait_and_lease_are_seconds(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="QC_ISSUE_WAIT_SECONDS"):
        Config.from_env(env(tmp_path, QC_ISSUE_WAIT_SECONDS=value))
    assert Config.from_env(env(tmp_path, QC_BATCH_LEASE_SECONDS="12")).BATCH_LEASE_SECONDS == 12
