"""WSGI entry points for bench/verify_load.py: the real app (limits off, so the benchmark
measures the page, not 429s) with one trivial route added (the floor our middleware sets:
sessions, login, locale, security headers), and a bare Flask route, all served by the same
gunicorn settings."""

from __future__ import annotations

from flask import Flask

from qc_app import create_app
from qc_app.config import Config


def _app() -> Flask:
    config = Config.from_env()
    config.RATELIMIT_ENABLED = False
    app = create_app(config)

    def trivial() -> str:
        return "Hello, World!"

    trivial.qc_public = True  # type: ignore[attr-defined]
    app.add_url_rule("/bench/trivial", view_func=trivial)
    return app


def _bare() -> Flask:
    bare = Flask("bare")

    @bare.get("/")
    def hello() -> str:
        return "Hello, World!"

    return bare


app = _app()
bare = _bare()
