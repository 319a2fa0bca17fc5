"""The task queue: background work (batch issuance, single issues, later webhooks and the audit
sequencer) runs on `flask qc worker` processes, never in a web request.

Huey, made in the factory from Config.QUEUE_URL: `sqlite:///…` (one machine, the default file
instance/queue.db), `redis://…` (several machines), or `immediate://` (tests that are not about
the queue: a task runs inside `enqueue`). A package registers plain functions with `task` or
`periodic` at import; `init_app` binds them to the app's Huey instance, each run inside an app
context of its own. Services never import this module: a view, the API or a task enqueues.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

log = logging.getLogger(__name__)

# A task: called with the app and the keyword arguments it was enqueued with.
Task = Callable[..., None]

_TASKS: dict[str, Task] = {}
_PERIODIC: dict[str, tuple[Task, int]] = {}
_AT_STOP: dict[str, Task] = {}


def task(name: str) -> Callable[[Task], Task]:
    """Register `fn(app, **kwargs)` as the task `name` (JSON-like keyword arguments only)."""

    def register(fn: Task) -> Task:
        _TASKS[name] = fn
        return fn

    return register


def periodic(name: str, *, every_minutes: int = 1, at_stop: bool = False) -> Callable[[Task], Task]:
    """Register `fn(app)` to run every `every_minutes` (under an hour, or whole hours) on some
    worker, and once when a worker starts (what was left undone while none ran is picked up at
    once); with `at_stop`, also in each worker as it stops (SIGTERM/SIGINT, not kill -9)."""
    if not (0 < every_minutes < 60 or every_minutes % 60 == 0):
        raise ValueError(f"{name}: every_minutes must be under 60 or whole hours")

    def register(fn: Task) -> Task:
        _PERIODIC[name] = (fn, every_minutes)
        if at_stop:
            _AT_STOP[name] = fn
        return fn

    return register


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)


def make_huey(url: str, name: str = "qc") -> Huey:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, fsync=True)
    if url == "immediate://":
        return Huey(name, results=False, immediate=True)
    raise ValueError(f"QC_QUEUE_URL must be sqlite:///PATH, redis://… or immediate://, not {url!r}")


def init_app(app: Flask, url: str, name: str = "qc") -> Queue:
    huey = make_huey(url, name)
    queue = Queue(huey)
    for name, fn in _TASKS.items():
        queue.tasks[name] = huey.task(name=name)(_in_app_context(app, fn))
    for name, (fn, minutes) in _PERIODIC.items():
        every = (
            crontab(minute=f"*/{minutes}")
            if minutes < 60
            else crontab(minute="0", hour=f"*/{minutes // 60}")
        )
        queue.tasks[name] = huey.periodic_task(every, name=name)(_in_app_context(app, fn))
    app.extensions["qc_queue"] = queue
    return queue


def _in_app_context(app: Flask, fn: Task) -> Callable[..., None]:
    def run(**kwargs: Any) -> None:
        with app.app_context():
            fn(app, **kwargs)

    run.__name__ = fn.__name__
    return run


def queue_of(app: Flask) -> Queue:
    return app.extensions["qc_queue"]  # type: ignore[no-any-return]


def enqueue(app: Flask, name: str, **kwargs: Any) -> None:
    """Put the task on the queue (in immediate mode: run it now)."""
    queue_of(app).tasks[name](**kwargs)


def schedule(app: Flask, name: str, *, delay: float, **kwargs: Any) -> None:
    """Put the task on the queue to run `delay` seconds from now."""
    queue_of(app).tasks[name].schedule(kwargs=kwargs, delay=delay)


def run_worker(app: Flask, *, threads: int = 1) -> None:
    """Consume until SIGTERM/SIGINT. Each periodic task is enqueued once first."""
    queue = queue_of(app)
    for name in _PERIODIC:
        queue.tasks[name]()
    consumer = queue.huey.create_consumer(
        workers=threads, worker_type="thread", periodic=True, max_delay=1.0
    )
    consumer.run()
    for name, fn in _AT_STOP.items():
        try:
            _in_app_context(app, fn)()
        except Exception:  # one failing stop task must not keep the others from running
            log.exception("%s failed as the worker stopped", name)
