"""Request ids: one per request, returned as X-Request-ID, shown on error pages and stamped on
every log record of the request, so a consumer's "error ABC…" finds its log lines.

A well-formed incoming X-Request-ID (from the load balancer) is kept, so one id follows the
request through every tier. A logging configuration (JSON logs) adds RequestIdFilter to its
handlers and prints `request_id`.
"""

from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler
from werkzeug.wrappers import Response

HEADER = "X-Request-ID"
# Letters, digits and - _ . : only (no spaces, no CRLF to forge log lines), 8 to 64 of them.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def current() -> str:
    """The id of the request being handled ("-" outside a request)."""
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _WELL_FORMED.fullmatch(incoming) else secrets.token_hex(16)
    return str(g.request_id)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record it sees; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True


def _header(response: Response) -> Response:
    response.headers[HEADER] = current()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_header)
    # On the app's logger: its records (unhandled errors) carry the id to any handler. On
    # Flask's default handler: what anything under "qc_app" logs is printed with the id.
    for target in (app.logger, default_handler):
        if not any(isinstance(f, RequestIdFilter) for f in target.filters):
            target.addFilter(RequestIdFilter())
