"""/healthz, /readyz and /metrics: no login, nothing secret; /metrics only for the local network
or a bearer token."""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.wrappers import Response

from qc_app.db import engine_of
from qc_app.ops import health, metrics
from qc_app.queue import queue_of
from qc_app.web import config, files, limiter, now, public

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
@public
def healthz() -> Any:
    """The process answers: what a supervisor restarts it on."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@limiter.exempt
@public
def readyz() -> Any:
    """Every part a request needs, each with what was found: what a load balancer routes on."""
    qc = config()
    parts = [
        health.database(engine_of(current_app)),
        health.redis_store(qc.RATELIMIT_STORAGE_URI),
        health.file_store(files()),
        health.task_queue(queue_of(current_app).huey),
    ]
    ready = all(part.ok for part in parts)
    body = {
        "status": "ready" if ready else "not ready",
        "parts": {part.name: {"ok": part.ok, "detail": part.detail} for part in parts},
    }
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
@limiter.exempt
@public  # no login: the local network or the token (`_may_scrape`)
def scrape() -> Response:
    if not _may_scrape():
        abort(404)
    text = metrics.exposition(engine_of(current_app), queue_of(current_app).huey, files(), now())
    return Response(text, content_type=CONTENT_TYPE_LATEST)


def _may_scrape() -> bool:
    qc = config()
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if qc.METRICS_TOKEN and hmac.compare_digest(offered.encode(), qc.METRICS_TOKEN.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in qc.METRICS_NETWORKS)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _answered(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    if endpoint != "ops.scrape":
        started = g.get("metrics_started")
        metrics.REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        if started is not None:
            metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        if response.status_code == 429:
            metrics.REFUSALS.labels(endpoint).inc()
    return response


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_answered)
    app.register_blueprint(bp)
