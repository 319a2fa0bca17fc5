"""security.md §8 check 16: no trace in any response, and every unhandled error logged with the
request id that the response shows (X-Request-ID header, the 500 page, the JSON error)."""

from __future__ import annotations

import logging
import re
from typing import Any, NoReturn

import pytest
from flask import Flask
from flask.logging import default_handler

from qc_app.requestid import HEADER, RequestIdFilter

# What a leaked trace looks like: the traceback, a source path, the exception and its message.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/work/|site-packages|RuntimeError|s3cr3t")


def crashing(app: Flask, url: str) -> None:
    def boom() -> NoReturn:
        raise RuntimeError(f"s3cr3t detail from {__file__}")

    app.add_url_rule(url, "boom", boom)


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("url", ["/boom", "/api/v1/boom"])
def test_an_unhandled_error_shows_no_trace_and_is_logged_with_the_request_id(
    app: Flask, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    crashing(app, url)
    response = app.test_client().get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert not LEAKS.search(body), body
    request_id = response.headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    if url.startswith("/api/"):
        assert response.get_json()["error"]["request_id"] == request_id
    else:
        assert f'<code id="request-id">{request_id}</code>' in body
    [record] = error_records(caplog)
    assert record.request_id == request_id  # type: ignore[attr-defined]
    line = default_handler.format(record)  # what the service prints without a logging config
    assert request_id in line and "s3cr3t" in line  # the trace goes to the log only


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("lb-7f3a9c2e-0001", True),
        ("a1b2c3d4", True),
        ("short", False),
        ("x" * 65, False),
        ("id with spaces", False),
        ("forged\r\nINFO ok", False),
    ],
)
def test_a_well_formed_incoming_request_id_is_kept(app: Flask, sent: str, kept: bool) -> None:
    try:
        response = app.test_client().get("/login", headers={HEADER: sent})
    except ValueError:  # Werkzeug's client itself refuses a header with CRLF
        assert not kept
        return
    assert (response.headers[HEADER] == sent) is kept


def test_each_request_gets_its_own_id(client: Any) -> None:
    ids = {client.get("/login").headers[HEADER] for _ in range(3)}
    ids.add(client.get("/api/v1/openapi.json").headers[HEADER])
    assert len(ids) == 4


def test_records_logged_outside_a_request_say_so() -> None:
    record = logging.LogRecord("qc_app", logging.INFO, __file__, 1, "flush", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"  # type: ignore[attr-defined]
