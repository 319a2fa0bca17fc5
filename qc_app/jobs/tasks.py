"""The queue's side of jobs: a job's kind is the name of the task that runs it, called with
`job_id`; a job a dead worker took (or an enqueue that was lost) is put on the queue again."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from qc_app import queue
from qc_app.db import request_session
from qc_app.jobs.services import stale_jobs
from qc_app.sqltypes import utcnow


@queue.periodic("jobs.requeue_stale")
def requeue_stale(app: Flask) -> None:
    # A task runs a job again safely: `start_job` skips a finished one, and its work checks
    # whether a run before it got as far as committing (certificates.tasks).
    after = timedelta(seconds=app.config["QC"].BATCH_LEASE_SECONDS)
    for job in stale_jobs(session=request_session(), now=utcnow(), after=after):
        queue.enqueue(app, job.kind, job_id=job.id)
