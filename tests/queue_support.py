"""Real `flask qc worker` processes for the queue's tests: the issuance tier (it alone is given
QC_KEY_PASSPHRASE), and web apps of the same deployment without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from qc_app import create_app
from qc_app.config import ROOT, Config
from qc_app.db import engine_of

WAIT_S = 180.0  # how long a wait may take on a loaded machine before the test gives up


def queue_settings(app: Flask, redis_url: str | None = None) -> dict[str, str]:
    """A queue of the test's own: a SQLite file in its instance, or a name of its own on Redis."""
    qc = app.config["QC"]
    url = redis_url or f"sqlite:///{qc.INSTANCE_PATH / 'queue.db'}"
    return {"QC_QUEUE_URL": url, "QC_QUEUE_NAME": f"qc-test-{uuid.uuid4().hex}"}


def make_web_tier(app: Flask, queue: dict[str, str], **overrides: Any) -> Flask:
    """A web process of `app`'s deployment: same database, secrets and queue, no passphrase."""
    qc = app.config["QC"]
    config = Config.for_tests(
        qc.INSTANCE_PATH,
        engine_of(app).url.render_as_string(hide_password=False),
        RATELIMIT_ENABLED=False,
        SECRET_KEY=qc.SECRET_KEY,
        CHECK_CODE_SECRET=qc.CHECK_CODE_SECRET,
        KEY_PASSPHRASE=None,
        QUEUE_URL=queue["QC_QUEUE_URL"],
        QUEUE_NAME=queue["QC_QUEUE_NAME"],
        **overrides,
    )
    return create_app(config)


# The `web_tier` fixture (conftest) makes these and closes their connections after the test.
WebTier = Callable[..., Flask]


def worker_env(app: Flask, font: Path, queue: dict[str, str], **extra: str) -> dict[str, str]:
    qc = app.config["QC"]
    return {
        **os.environ,
        "SECRET_KEY": qc.SECRET_KEY,
        "QC_KEY_PASSPHRASE": qc.KEY_PASSPHRASE,
        "QC_CHECK_CODE_KEY": qc.CHECK_CODE_SECRET,
        "QC_INSTANCE_PATH": str(qc.INSTANCE_PATH),
        "QC_BASE_URL": qc.BASE_URL,
        "DATABASE_URL": engine_of(app).url.render_as_string(hide_password=False),
        "QC_CJK_FONT": str(font),
        **queue,
        **extra,
    }


def start_worker(env: dict[str, str], *, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "flask", "--app", "qc_app", "qc", "worker"]
    return subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(worker: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> str:
    """Stop the worker (SIGKILL: as a crash would) and return what it wrote to stderr."""
    if worker.poll() is None:
        worker.send_signal(sig)
    try:
        _, stderr = worker.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        _, stderr = worker.communicate()
    return stderr.decode(errors="replace")[-3000:]


@contextmanager
def running_worker(env: dict[str, str], *, workers: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    worker = start_worker(env, workers=workers)
    try:
        yield worker
    finally:
        stop(worker)


def wait_until(done: Callable[[], bool], what: str, worker: Any = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}: {stop(worker)}")
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
