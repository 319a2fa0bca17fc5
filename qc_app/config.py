"""Configuration: read from the environment inside the factory, never at import time.

There are no default secrets: a missing SECRET_KEY or check-code key stops start-up with a clear
message (scripts/serve writes them into instance/secrets.env). The key passphrase is optional:
only the issuance tier has it (scripts/serve keeps it in instance/signing.env and hands it to the
worker and the CLI only); a signing path without it raises SigningUnavailable.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qc_app.authz import TERMINALS, Role
from qc_app.storage import S3Credentials, Storage, StorageUrlInvalid, check_url, storage_from_url

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Start-up cannot continue: a setting is missing or wrong."""


def read_secrets_file(path: Path) -> dict[str, str]:
    """instance/secrets.env (written by scripts/serve, mode 0600): KEY=value lines."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


class SigningUnavailable(ConfigError):
    """A signing path ran in a process without QC_KEY_PASSPHRASE: only the issuance tier (the
    `flask qc worker` processes and the CLI) holds it; web processes verify and enqueue."""


def _optional_secret(env: dict[str, str], name: str) -> str | None:
    value = env.get(name, "")
    if value and len(value) < 32:
        raise ConfigError(f"{name} is shorter than 32 characters.")
    return value or None


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    try:
        seconds = float(env.get(name) or default)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConfigError(f"{name} must be a number of seconds (0 or more), not {env[name]!r}.")
    return seconds


def _require(env: dict[str, str], name: str, hint: str) -> str:
    value = env.get(name, "")
    if len(value) < 32:
        raise ConfigError(f"{name} is missing or shorter than 32 characters. {hint}")
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"QC_TIMEZONE={name!r} is not a time zone (e.g. Asia/Shanghai)") from None
    return name


def _hops(value: str) -> int:
    try:
        hops = int(value or "0")
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigError(
            f"QC_TRUSTED_PROXIES must be a whole number of proxy hops (0 or more), not {value!r}."
        )
    return hops


def _storage_url(value: str) -> str:
    if not value:
        return ""  # the instance folder (Config.__post_init__)
    try:
        check_url(value)
    except StorageUrlInvalid as exc:
        raise ConfigError(str(exc)) from exc
    return value


def _networks(value: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in value.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"QC_METRICS_NETWORKS: {network!r} is not a network") from None
    return networks


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


# Loopback and the private ranges: where a Prometheus scraper on the local network stands.
PRIVATE_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass
class Config:
    SECRET_KEY: str
    # Only the issuance tier (workers, CLI) is given QC_KEY_PASSPHRASE; see `signing_passphrase`.
    KEY_PASSPHRASE: str | None
    # Keys the stored digests of the printed check codes (QC_CHECK_CODE_KEY). Its own secret, not
    # SECRET_KEY: rotating the session key must not retire every check code ever printed.
    CHECK_CODE_SECRET: str
    INSTANCE_PATH: Path
    DATABASE_URL: str
    BASE_URL: str = "http://127.0.0.1:5000"
    # Every time a person reads (pages, certificates, labels) is in this zone (QC_TIMEZONE);
    # times are stored in UTC.
    TIMEZONE: str = "Asia/Shanghai"
    CERTIFICATES_DIR: Path = ROOT / "certificates"
    CJK_FONT: str | None = None
    COOKIE_SECURE: bool = True
    RATELIMIT_STORAGE_URI: str = "memory://"
    # Proxy hops in front of the app (QC_TRUSTED_PROXIES): their X-Forwarded-For/-Proto/-Host
    # are believed (werkzeug's ProxyFix), so limits key on the client, not on the proxy. 0: the
    # headers are ignored, as anyone can send them.
    TRUSTED_PROXIES: int = 0
    RATELIMIT_ENABLED: bool = True
    PUBLIC_RATE_LIMIT: str = "60/minute;600/hour"
    # Failed logins (a wrong password or second-factor code; auth/throttle.py): windows of
    # growing length per account name from anywhere, and per client address over all names.
    # The 6th failure for one account within a minute waits out the minute, the 11th within
    # 15 minutes the quarter hour, the 21st within an hour the hour. The owner's own terminal
    # (device cookie) has a budget of its own for the account.
    LOGIN_FAILURES_PER_ACCOUNT: str = "5/minute;10/15 minutes;20/hour"
    LOGIN_FAILURES_PER_ADDRESS: str = "10/minute;30/hour"
    # Tells apart deployments sharing one Redis for their limits (QC_RATELIMIT_KEY_PREFIX).
    RATELIMIT_KEY_PREFIX: str = ""
    # Wrong check codes (or unknown numbers) typed on /verify or to register ownership: per
    # client and certificate number, and per client over all numbers (verification/throttle.py).
    # Never per number alone: wrong codes from others must not lock the owner out.
    CHECK_CODE_BUDGET_PER_CLIENT_NUMBER: str = "10/hour"
    CHECK_CODE_BUDGET_PER_CLIENT: str = "20/hour"
    CLAIM_RATE_LIMIT: str = "10/hour"
    # When a genuine code looks copied (verification/scans.Thresholds): total, per hour, days.
    SCAN_THRESHOLDS: tuple[int, int, int] = (50, 10, 90)
    # Consumer scans are written together at most this often per process (verification/scans.Tally).
    SCAN_FLUSH_SECONDS: float = 1.0
    MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024
    # Idle limits per role: 15 minutes at the shared warehouse and lab terminals, 30 for
    # merchants and admins at their own desks; every session ends 12 hours after its login.
    IDLE_TIMEOUTS: dict[Role, timedelta] = field(
        default_factory=lambda: {
            role: timedelta(minutes=15 if role in TERMINALS else 30) for role in Role
        }
    )
    ABSOLUTE_TIMEOUT: timedelta = timedelta(hours=12)
    # The task queue (qc_app.queue): sqlite:///PATH (default instance/queue.db), redis://…
    # (QC_QUEUE_URL, else REDIS_URL), or immediate:// where tests run a task inside enqueue.
    QUEUE_URL: str = "immediate://"
    # Tells apart deployments (or test runs) sharing one Redis (QC_QUEUE_NAME).
    QUEUE_NAME: str = "qc"
    # How long an API issue request waits for its job before answering 202 with a status URL.
    ISSUE_WAIT_SECONDS: float = 5.0
    # A batch with no sign of life from its job for this long is interrupted: the next worker's
    # periodic check resumes it (certificates.batches).
    BATCH_LEASE_SECONDS: float = 30.0
    # Where stored files go (QC_STORAGE_URL): file:///abs/path (default: the instance folder) or
    # s3://bucket/prefix on AWS or any S3-compatible server at S3_ENDPOINT_URL (QC_S3_ENDPOINT_URL),
    # with the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_REGION.
    STORAGE_URL: str = ""
    S3_ENDPOINT_URL: str | None = None
    S3_REGION: str | None = None
    S3_CREDENTIALS: S3Credentials | None = None
    # /metrics answers these networks (QC_METRICS_NETWORKS, comma-separated CIDRs; the client
    # address is the one ProxyFix believes) or a bearer token (QC_METRICS_TOKEN), else 404.
    METRICS_NETWORKS: tuple[str, ...] = PRIVATE_NETWORKS
    METRICS_TOKEN: str = ""
    # Webhooks (qc_app.outbox): the n-th failed attempt waits BASE × 2^(n-1), at most MAX; a
    # delivery still failing GIVE_UP after it was queued is dead-lettered (QC_WEBHOOK_*_SECONDS).
    WEBHOOK_RETRY_BASE_SECONDS: float = 10.0
    WEBHOOK_RETRY_MAX_SECONDS: float = 3600.0
    WEBHOOK_GIVE_UP_SECONDS: float = 86400.0
    WEBHOOK_TIMEOUT_SECONDS: float = 10.0
    LOG_FORMAT: str = "json"  # QC_LOG_FORMAT: json (one object per line) or text
    SENTRY_DSN: str = ""  # errors are also reported to Sentry when set
    TESTING: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.STORAGE_URL = self.STORAGE_URL or self.INSTANCE_PATH.as_uri()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        instance = Path(env.get("QC_INSTANCE_PATH", ROOT / "instance")).resolve()
        env = {**read_secrets_file(instance / "secrets.env"), **env}
        hint = "Run scripts/serve once (it creates instance/secrets.env) or export it."
        return cls(
            SECRET_KEY=_require(env, "SECRET_KEY", hint),
            KEY_PASSPHRASE=_optional_secret(env, "QC_KEY_PASSPHRASE"),
            CHECK_CODE_SECRET=_require(env, "QC_CHECK_CODE_KEY", hint),
            INSTANCE_PATH=instance,
            DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{instance / 'qc.db'}",
            BASE_URL=env.get("QC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            TIMEZONE=_zone(env.get("QC_TIMEZONE") or "Asia/Shanghai"),
            CJK_FONT=env.get("QC_CJK_FONT") or None,
            COOKIE_SECURE=env.get("QC_COOKIE_SECURE", "1") != "0",
            RATELIMIT_STORAGE_URI=(env["REDIS_URL"] if env.get("REDIS_URL") else "memory://"),
            TRUSTED_PROXIES=_hops(env.get("QC_TRUSTED_PROXIES", "")),
            QUEUE_URL=env.get("QC_QUEUE_URL")
            or env.get("REDIS_URL")
            or f"sqlite:///{instance / 'queue.db'}",
            QUEUE_NAME=env.get("QC_QUEUE_NAME") or "qc",
            RATELIMIT_KEY_PREFIX=env.get("QC_RATELIMIT_KEY_PREFIX", ""),
            ISSUE_WAIT_SECONDS=_seconds(env, "QC_ISSUE_WAIT_SECONDS", 5.0),
            BATCH_LEASE_SECONDS=_seconds(env, "QC_BATCH_LEASE_SECONDS", 30.0),
            STORAGE_URL=_storage_url(env.get("QC_STORAGE_URL", "")),
            S3_ENDPOINT_URL=env.get("QC_S3_ENDPOINT_URL") or None,
            S3_REGION=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            S3_CREDENTIALS=(
                S3Credentials(
                    env["AWS_ACCESS_KEY_ID"],
                    env["AWS_SECRET_ACCESS_KEY"],
                    env.get("AWS_SESSION_TOKEN") or None,
                )
                if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")
                else None
            ),
            METRICS_NETWORKS=_networks(env.get("QC_METRICS_NETWORKS", "")) or PRIVATE_NETWORKS,
            METRICS_TOKEN=env.get("QC_METRICS_TOKEN", ""),
            LOG_FORMAT=_choice(env.get("QC_LOG_FORMAT", "json"), "QC_LOG_FORMAT", ("json", "text")),
            SENTRY_DSN=env.get("SENTRY_DSN", ""),
            WEBHOOK_RETRY_BASE_SECONDS=_seconds(env, "QC_WEBHOOK_RETRY_BASE_SECONDS", 10.0),
            WEBHOOK_RETRY_MAX_SECONDS=_seconds(env, "QC_WEBHOOK_RETRY_MAX_SECONDS", 3600.0),
            WEBHOOK_GIVE_UP_SECONDS=_seconds(env, "QC_WEBHOOK_GIVE_UP_SECONDS", 86400.0),
            WEBHOOK_TIMEOUT_SECONDS=_seconds(env, "QC_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        )

    @classmethod
    def for_tests(cls, instance: Path, database_url: str | None = None, **overrides: Any) -> Config:
        """Fresh random secrets per test app: nothing is shared or hard-coded."""
        config = cls(
            SECRET_KEY=secrets.token_urlsafe(48),
            KEY_PASSPHRASE=secrets.token_urlsafe(48),
            CHECK_CODE_SECRET=secrets.token_urlsafe(48),
            INSTANCE_PATH=instance,
            DATABASE_URL=database_url or f"sqlite:///{instance / 'test.db'}",
            BASE_URL="http://qc.test",
            COOKIE_SECURE=False,
            TESTING=True,
            SCAN_FLUSH_SECONDS=0.0,  # every scan written at once (tests/unit/test_scan_tally.py)
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        return config

    def signing_passphrase(self) -> str:
        """The passphrase of the signing keys, in the issuance tier only."""
        if self.KEY_PASSPHRASE is None:
            raise SigningUnavailable(
                "QC_KEY_PASSPHRASE is not set in this process: only the issuance tier "
                "(`flask qc worker`, the `flask qc` commands) signs; web processes enqueue."
            )
        return self.KEY_PASSPHRASE

    @property
    def CHECK_CODE_KEY(self) -> bytes:
        """The key of the certificates' check-code digests (qc_app.codes). Every process
        needs the same QC_CHECK_CODE_KEY; changing it retires every printed check code."""
        label = b"qc check-code digest key v1"
        return hmac.new(self.CHECK_CODE_SECRET.encode(), label, "sha256").digest()

    @property
    def PREVIEW_KEY(self) -> bytes:
        """The key of the lab preview's digest (inspection.services.preview_digest): a confirm
        records only what this app showed. Rotating SECRET_KEY only voids open previews."""
        label = b"qc lab preview digest key v1"
        return hmac.new(self.SECRET_KEY.encode(), label, "sha256").digest()

    @property
    def WEBHOOK_SEAL_KEY(self) -> bytes:
        """The key that seals the webhook secrets in the database (qc_app.outbox.signing): kept
        out of the database, in every process, and not rotated with SECRET_KEY."""
        label = b"qc webhook secret seal key v1"
        return hmac.new(self.CHECK_CODE_SECRET.encode(), label, "sha256").digest()

    def make_storage(self) -> Storage:
        """The file store STORAGE_URL names (create_app makes the app's one)."""
        return storage_from_url(
            self.STORAGE_URL,
            endpoint_url=self.S3_ENDPOINT_URL,
            region=self.S3_REGION,
            credentials=self.S3_CREDENTIALS,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The zone of TIMEZONE, in which every time is shown."""
        return ZoneInfo(self.TIMEZONE)

    def flask_settings(self) -> dict[str, Any]:
        cookie = "__Host-qc_session" if self.COOKIE_SECURE else "qc_session"
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "TESTING": self.TESTING,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "MAX_FORM_PARTS": 50,
            "SESSION_COOKIE_NAME": cookie,
            "SESSION_COOKIE_SECURE": self.COOKIE_SECURE,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": self.ABSOLUTE_TIMEOUT,
            "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
            # The CSRF token lives as long as the session: a long lab form is never lost to expiry.
            "WTF_CSRF_TIME_LIMIT": None,
            "WTF_CSRF_SSL_STRICT": self.COOKIE_SECURE,
            "RATELIMIT_STORAGE_URI": self.RATELIMIT_STORAGE_URI,
            # Redis down: each process limits on its own memory instead (one warning per outage)
            # and goes back to Redis once it answers again. A Redis that does not answer costs
            # a request half a second, not a hang: then the fallback, with re-checks spaced out.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            "RATELIMIT_ENABLED": self.RATELIMIT_ENABLED,
            "RATELIMIT_KEY_PREFIX": self.RATELIMIT_KEY_PREFIX,
            "RATELIMIT_HEADERS_ENABLED": True,
            "BABEL_DEFAULT_LOCALE": "zh",
            "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
            "QC": self,
        }
