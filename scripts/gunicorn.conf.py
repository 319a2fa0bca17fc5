"""gunicorn settings read by scripts/serve (and by a production start, README)."""

import gc

from prometheus_client import multiprocess


def post_worker_init(worker: object) -> None:
    # The objects the app is made of (modules, SQLAlchemy's mappers, the rules, compiled
    # templates: some 200,000) are kept out of the collector's full passes from now on: each
    # full pass read all of them, a 150-350 ms pause in whichever request set it off, a tenth
    # of a busy list page's requests (bench/list_pages.py). Garbage made later is still freed.
    gc.freeze()


def child_exit(server: object, worker: object) -> None:
    # A worker's live gauges go with it; its counters stay in the sum (prometheus-client's
    # multiprocess mode, PROMETHEUS_MULTIPROC_DIR).
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
