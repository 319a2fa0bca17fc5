"""WSGI entry points for bench/verify_load.py, all served by the same gunicorn settings:

- `app`: the real app (limits off, so the benchmark measures the page, not 429s), plus one
  trivial route (the floor our middleware sets: sessions, login, locale, security headers);
- `essential`: the consumer page's essential work and nothing around it (issue 20's
  reference): a bare Flask route that reads the certificate row with the page's one SQL query,
  verifies its Ed25519 signature once and renders the same template with plain Jinja (no
  sessions, login, limiter, Babel, middleware, scan counting);
- `bare`: a bare Flask hello route.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import create_engine

from qc_app import create_app
from qc_app.certificates.keys import verifier
from qc_app.config import Config
from qc_app.db import make_engine, request_session
from qc_app.items.proof import VIEW_LABELS, dimension
from qc_app.units import format_fen, local_time
from qc_app.verification import consumer, scans, services

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _app() -> Flask:
    config = Config.from_env()
    config.RATELIMIT_ENABLED = False
    app = create_app(config)

    def trivial() -> str:
        return "Hello, World!"

    trivial.qc_public = True  # type: ignore[attr-defined]
    app.add_url_rule("/bench/trivial", view_func=trivial)
    return app


def _essential(app: Flask) -> Flask:
    config = app.config["QC"]
    with app.app_context():
        keys = verifier(request_session())  # the public keys, read once
    engine = make_engine(config.DATABASE_URL)
    if engine.dialect.name == "postgresql":  # no ping on checkout, no BEGIN/ROLLBACK trips
        engine = create_engine(engine.url).execution_options(isolation_level="AUTOCOMMIT")
    limits = scans.Thresholds(*config.SCAN_THRESHOLDS)
    jinja = Environment(
        loader=FileSystemLoader(TEMPLATES), extensions=["jinja2.ext.i18n"], autoescape=True
    )
    jinja.install_null_translations(newstyle=True)  # the msgids are the Chinese page
    jinja.filters.update(
        tr=lambda m: m.render("zh"),
        when=lambda t, p="%Y-%m-%d %H:%M": "—" if t is None else local_time(t, config.zone, p),
        material=lambda code: code or "—",
        label=lambda key, kind: str(key or ""),
    )
    jinja.globals.update(
        url_for=lambda endpoint, **values: routes.build(endpoint, values),
        lang_url=lambda code: "?lang=" + code,
        csrf_token=lambda: "",
        get_flashed_messages=lambda **kw: [],
        current_user=None,
        lang="zh",
        format_fen=format_fen,
    )
    routes = app.url_map.bind("localhost")  # werkzeug's URL building, as the page does
    template = jinja.get_template("verification/result.html")
    bare = Flask("essential")

    @bare.get("/v/<number>")
    def page(number: str) -> Any:
        now = datetime.now(UTC)
        with engine.connect() as conn:
            row = conn.execute(
                services._RECORD, {"number": number, "hour": scans.hour_of(now)}
            ).first()
        assert row is not None
        signed = row.payload.encode()
        keys.verify(signed, row.signature, row.kid, at=row.issued_at)
        record = services._record(row, now)
        view = services.PublicView(services.Verdict.VALID, number, record, json.loads(signed))
        seen = scans.summarise(
            None,  # type: ignore[arg-type]  # no second query: the scans are recent
            certificate_id=record.id,
            seen=record.scans,
            unwritten=0,
            limits=limits,
        )
        extra = consumer.Extras(seen, record.seal_no)
        html = template.render(
            view=view,
            extra=extra,
            proof={},
            owner=None,
            tries_left=None,
            intake_photos=services.proof_photos(view),
            view_labels=VIEW_LABELS,
            dimension=dimension,
        )
        return Response(html, mimetype="text/html")

    return bare


def _bare() -> Flask:
    bare = Flask("bare")

    @bare.get("/")
    def hello() -> str:
        return "Hello, World!"

    return bare


app = _app()
essential = _essential(app)
bare = _bare()
