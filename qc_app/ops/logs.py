"""Logs as one JSON object per line (python-json-logger), each with the request id, and errors
reported to Sentry when SENTRY_DSN is set (sentry-sdk; no personal data is sent)."""

from __future__ import annotations

import logging

import sentry_sdk
from flask import Flask
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from sentry_sdk.integrations.flask import FlaskIntegration

from qc_app import requestid

TEXT = "[%(asctime)s] %(levelname)s %(request_id)s in %(module)s: %(message)s"
# Every record: when, how bad, from where, the request it belongs to, what happened; an
# exception's traceback comes as exc_info.
JSON_FIELDS = ["asctime", "levelname", "name", "request_id", "message"]


def formatter(kind: str) -> logging.Formatter:
    if kind == "text":
        return logging.Formatter(TEXT)
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def init_app(app: Flask, *, kind: str, sentry_dsn: str) -> None:
    """What anything under "qc_app" logs goes through Flask's default handler (to stderr,
    gunicorn's error log) with this format and the request id."""
    default_handler.setFormatter(formatter(kind))
    if sentry_dsn:
        sentry_sdk.init(
            dsn=sentry_dsn,
            integrations=[FlaskIntegration()],
            # No request bodies (a claim's bank details, a check code); the SDK's defaults
            # already leave out addresses, cookies and user names.
            max_request_body_size="never",
        )
        # An error the app answers itself (its 500 page) is logged, and the SDK's logging
        # integration sends what is logged at ERROR: tagged with the id the page shows.
        app.before_request(lambda: sentry_sdk.set_tag("request_id", requestid.current()))
