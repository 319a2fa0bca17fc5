"""Prometheus metrics (prometheus-client).

Counters and histograms of what this process did (requests, scans, refusals) are kept per
process; under gunicorn, `PROMETHEUS_MULTIPROC_DIR` (set by scripts/serve before the workers
start) makes every worker write them to files that one scrape adds up. Totals that the database,
the queue or the store already know for every node at once (certificates by status, jobs, queue
depth, checkpoint age) are read from them when scraped, so they are the same whoever answers and
never drift from the rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from huey import Huey
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import Engine

from qc_app.ops import checkpoints
from qc_app.storage import Storage

REQUESTS = Counter(
    "qc_http_requests",
    "Requests answered, by endpoint, method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "qc_http_request_duration_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SCANS = Counter("qc_consumer_scans", "Consumer scans of a genuine certificate counted")
REFUSALS = Counter(
    "qc_rate_limit_refusals", "Requests refused by a rate limit or an attempts budget", ["endpoint"]
)


class SharedTotals(Collector):
    """What the database, the queue and the store say at scrape time, the same on every node:
    certificates by status, jobs waiting and failed, tasks on the queue, the outbox backlog, the
    age of the newest signed audit checkpoint and the audit events not yet chained."""

    def __init__(self, engine: Engine, huey: Huey, files: Storage, now: datetime) -> None:
        self.engine, self.huey, self.files, self.now = engine, huey, files, now

    def collect(self) -> Iterator[Metric]:
        certificates = GaugeMetricFamily(
            "qc_certificates", "Certificates by status", labels=["status"]
        )
        jobs = GaugeMetricFamily(
            "qc_jobs", "Issuance jobs by outcome (unfinished or failed)", labels=["outcome"]
        )
        with self.engine.connect() as connection:
            for status, count in connection.execute(
                text("SELECT status, COUNT(*) FROM certificates GROUP BY status")
            ):
                certificates.add_metric([str(status)], float(count))
            unfinished, failed = connection.execute(
                text(
                    "SELECT COUNT(*) - COUNT(finished_at),"
                    " COUNT(CASE WHEN error IS NOT NULL THEN 1 END) FROM jobs"
                )
            ).one()
            unchained = connection.execute(text("SELECT COUNT(*) FROM audit_queue")).scalar_one()
            backlog = connection.execute(
                text(
                    "SELECT (SELECT COUNT(*) FROM outbox_events WHERE position IS NULL),"
                    " (SELECT COUNT(*) FROM webhook_deliveries WHERE finished_at IS NULL)"
                )
            ).one()
        jobs.add_metric(["unfinished"], float(unfinished))
        jobs.add_metric(["failed"], float(failed))
        yield certificates
        yield jobs
        yield GaugeMetricFamily(
            "qc_audit_unchained_events",
            "Audit events committed but not yet chained (the sequencer runs every minute)",
            value=float(unchained),
        )
        outbox = GaugeMetricFamily(
            "qc_outbox_backlog",
            "Platform events not yet in the feed, and webhook deliveries not yet finished",
            labels=["stage"],
        )
        outbox.add_metric(["unsequenced"], float(backlog[0]))
        outbox.add_metric(["undelivered"], float(backlog[1]))
        yield outbox
        yield GaugeMetricFamily(
            "qc_queue_depth", "Tasks waiting on the queue", value=float(self.huey.pending_count())
        )
        newest = checkpoints.latest(self.files)
        if newest is not None:
            age = self.now - datetime.fromisoformat(newest.at)
            yield GaugeMetricFamily(
                "qc_audit_checkpoint_age_seconds",
                "Seconds since the newest signed audit checkpoint in the store",
                value=age.total_seconds(),
            )


def exposition(engine: Engine, huey: Huey, files: Storage, now: datetime) -> bytes:
    """The text a scraper reads: this node's processes, then the shared totals."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    else:
        processes = REGISTRY
    totals = CollectorRegistry(auto_describe=False)
    totals.register(SharedTotals(engine, huey, files, now))
    return generate_latest(processes) + generate_latest(totals)
