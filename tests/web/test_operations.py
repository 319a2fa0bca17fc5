"""The operator's endpoints: /healthz, /readyz part by part, /metrics for the local network or a
token only, JSON log lines with the request id, errors reported to a (real, local) Sentry."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sentry_sdk
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from qc_app import create_app
from qc_app.config import Config
from qc_app.db import engine_of
from qc_app.ops.logs import formatter
from qc_app.requestid import RequestIdFilter
from qc_app.storage import FolderStorage, S3Storage, s3_client
from tests.web.helpers import client_at

PUBLIC = "203.0.113.7"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(app: Flask, **headers: str) -> Any:
    return app.test_client().get("/metrics", headers=headers)


def test_healthz_answers_without_a_login(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_each_part_ready(client: Any) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["parts"]) == {"database", "redis", "storage", "queue"}
    assert all(part["ok"] for part in body["parts"].values())
    assert body["parts"]["database"]["detail"].startswith("migrated to ")


def test_readyz_is_503_on_a_database_not_migrated(tmp_path: Path, empty_database_url: str) -> None:
    app = create_app(Config.for_tests(tmp_path / "instance", empty_database_url))
    try:
        response = app.test_client().get("/readyz")
    finally:
        engine_of(app).dispose()
    body = response.get_json()
    assert response.status_code == 503
    assert body["parts"]["database"] == {
        "ok": False,
        "detail": body["parts"]["database"]["detail"],
    }
    assert body["parts"]["database"]["detail"].startswith("schema at none, code wants ")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_readyz_is_503_when_the_configured_redis_does_not_answer(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    down = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"
    worker = limited_app(tmp_path, app, down)
    response = worker.test_client().get("/readyz")
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.get_json()["parts"]["redis"] == {
        "ok": False,
        "detail": "unreachable (ConnectionError)",
    }
    assert "hunter2" not in text and "127.0.0.1" not in text  # nothing secret, no address


def test_readyz_is_503_when_storage_cannot_be_written(app: Flask) -> None:
    blocked = Path(app.instance_path) / "blocked"
    blocked.write_bytes(b"a file where the folder should be")
    app.extensions["qc_storage"] = FolderStorage(blocked / "instance")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["parts"]["storage"]["ok"] is False
    assert str(blocked) not in response.get_data(as_text=True)


def test_readyz_is_503_when_the_s3_store_does_not_answer(app: Flask) -> None:
    client = s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=None)
    app.extensions["qc_storage"] = S3Storage(client, "qc-files", "ready")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["parts"]["storage"] == {
        "ok": False,
        "detail": "not writable (StorageError)",
    }
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_metrics_count_requests_by_endpoint_and_status(app: Flask) -> None:
    before = samples(scrape(app).get_data(as_text=True))
    app.test_client().get("/healthz")
    app.test_client().get("/no-such-page")
    response = scrape(app)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    after = samples(response.get_data(as_text=True))
    ok = (
        "qc_http_requests_total",
        (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200")),
    )
    missing = (
        "qc_http_requests_total",
        (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")),
    )
    assert after[ok] - before.get(ok, 0) == 1
    assert after[missing] - before.get(missing, 0) == 1
    count = ("qc_http_request_duration_seconds_count", (("endpoint", "ops.healthz"),))
    assert after[count] - before.get(count, 0) == 1


def test_metrics_count_certificates_from_the_database(app: Flask, flow: Any) -> None:
    flow.certified()
    found = samples(scrape(app).get_data(as_text=True))
    assert found[("qc_certificates", (("status", "valid"),))] == 1


def test_metrics_count_consumer_scans(app: Flask, flow: Any) -> None:
    _item, issued = flow.certified()
    before = samples(scrape(app).get_data(as_text=True)).get(("qc_consumer_scans_total", ()), 0)
    page = app.test_client().get(issued.verify_url.removeprefix("http://qc.test"))
    assert page.status_code == 200
    after = samples(scrape(app).get_data(as_text=True))[("qc_consumer_scans_total", ())]
    assert after - before == 1


def test_rate_limit_refusals_are_counted(
    tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]
) -> None:
    worker = limited_app(tmp_path, app, "memory://", PUBLIC_RATE_LIMIT="1/minute")
    key = ("qc_rate_limit_refusals_total", (("endpoint", "verification.verify_form"),))
    before = samples(scrape(worker).get_data(as_text=True)).get(key, 0)
    consumer = client_at(worker, PUBLIC)
    assert [consumer.get("/verify").status_code for _ in range(2)] == [200, 429]
    assert samples(scrape(worker).get_data(as_text=True))[key] - before == 1


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("10.1.2.3", {}, 200),
        (PUBLIC, {}, 404),
        (PUBLIC, {"Authorization": "Bearer scrape-me-please"}, 200),
        (PUBLIC, {"Authorization": "Bearer wrong"}, 404),
        (PUBLIC, {"Authorization": "Bearer "}, 404),
    ],
)
def test_metrics_answer_the_local_network_or_the_token_only(
    app: Flask, address: str, headers: dict[str, str], status: int
) -> None:
    app.config["QC"].METRICS_TOKEN = "scrape-me-please"
    response = client_at(app, address).get("/metrics", headers=headers)
    assert response.status_code == status


def test_without_a_token_configured_an_empty_bearer_is_refused(app: Flask) -> None:
    assert app.config["QC"].METRICS_TOKEN == ""
    response = client_at(app, PUBLIC).get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_a_log_line_is_one_json_object_with_the_request_id(app: Flask) -> None:
    record = logging.LogRecord(
        "qc_app.web", logging.ERROR, __file__, 1, "扫码失败 %s", ("X1",), None
    )
    with app.test_request_context(headers={"X-Request-ID": "lb-7f3a9c2e-0001"}):
        RequestIdFilter().filter(record)
    line = formatter("json").format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["request_id"] == "lb-7f3a9c2e-0001"
    assert fields["level"] == "ERROR"
    assert fields["logger"] == "qc_app.web"
    assert fields["message"] == "扫码失败 X1"
    assert "time" in fields


def _collector(received: list[bytes]) -> type[BaseHTTPRequestHandler]:
    """A Sentry ingestion endpoint that keeps every envelope posted to it."""

    class Sentry(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    return Sentry


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []
    server = HTTPServer(("127.0.0.1", 0), _collector(received))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_port}/1", received
    finally:
        sentry_sdk.init(dsn=None)  # the SDK is per process: leave none for the next test
        server.shutdown()
        server.server_close()


def test_an_unhandled_error_reaches_sentry_with_the_request_id(
    tmp_path: Path, database_url: str, sentry_server: tuple[str, list[bytes]]
) -> None:
    dsn, received = sentry_server
    app = create_app(Config.for_tests(tmp_path / "instance", database_url, SENTRY_DSN=dsn))

    def boom() -> NoReturn:
        raise RuntimeError("the scale sent nonsense")

    app.add_url_rule("/boom", "boom", boom)
    try:
        response = app.test_client().get("/boom", headers={"X-Request-ID": "lb-sentry-0001"})
        sentry_sdk.flush(timeout=5)
    finally:
        engine_of(app).dispose()
    assert response.status_code == 500
    events = [
        json.loads(line)
        for body in received
        for line in body.splitlines()
        if b'"exception"' in line
    ]
    assert len(events) == 1
    [event] = events
    assert event["tags"]["request_id"] == "lb-sentry-0001"
    assert event["exception"]["values"][0]["value"] == "the scale sent nonsense"
    assert "cookies" not in event.get("request", {})


def test_metrics_report_the_queue_jobs_and_the_newest_checkpoint(app: Flask, flow: Any) -> None:
    flow.declare()
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["qc", "audit", "checkpoint"]).exit_code == 0
    found = samples(scrape(app).get_data(as_text=True))
    assert found[("qc_queue_depth", ())] == 0
    assert found[("qc_jobs", (("outcome", "unfinished"),))] == 0
    assert found[("qc_jobs", (("outcome", "failed"),))] == 0
    assert found[("qc_audit_unchained_events", ())] == 0  # the checkpoint chained them
    assert found[("qc_outbox_backlog", (("stage", "undelivered"),))] == 0  # no subscription
    assert 0 <= found[("qc_audit_checkpoint_age_seconds", ())] < 3600
