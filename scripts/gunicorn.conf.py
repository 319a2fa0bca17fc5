"""gunicorn settings read by scripts/serve (and by a production start, README)."""

from prometheus_client import multiprocess


def child_exit(server: object, worker: object) -> None:
    # A worker's live gauges go with it; its counters stay in the sum (prometheus-client's
    # multiprocess mode, PROMETHEUS_MULTIPROC_DIR).
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
