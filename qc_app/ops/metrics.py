"""Prometheus metrics (prometheus-client).

Counters and histograms of what this process did (requests, scans, refusals) are kept per
process; under gunicorn, `PROMETHEUS_MULTIPROC_DIR` (set by scripts/serve before the workers
start) makes every worker write them to files that one scrape adds up. Totals that the database
already knows for every node at once (certificates by status) are read from it when scraped,
so they are the same whoever answers and never drift from the rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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


class DatabaseTotals(Collector):
    """What the rows say at scrape time: certificates by status."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        certificates = GaugeMetricFamily(
            "qc_certificates", "Certificates by status (all nodes)", labels=["status"]
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, COUNT(*) FROM certificates GROUP BY status")
            ).all()
        for status, count in rows:
            certificates.add_metric([str(status)], float(count))
        yield certificates


def exposition(engine: Engine) -> bytes:
    """The text a scraper reads: this node's processes, then the database's totals."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    else:
        processes = REGISTRY
    totals = CollectorRegistry(auto_describe=False)
    totals.register(DatabaseTotals(engine))
    return generate_latest(processes) + generate_latest(totals)
