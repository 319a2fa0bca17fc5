"""What the certificate pages and the API both do: ask the issuance tier for a certificate (a
job on the queue; this process may hold no signing key), wait a little for it, and send a
certificate's PDF as a download."""

from __future__ import annotations

import time

from flask import current_app
from werkzeug.wrappers import Response

from qc_app import queue
from qc_app.auth.models import User
from qc_app.authz import Guarded
from qc_app.certificates import issuance, tasks
from qc_app.certificates.batches import BATCH
from qc_app.certificates.issuance import IssuingSetup
from qc_app.certificates.workflow import MACHINE
from qc_app.codes import normalize
from qc_app.db import request_session
from qc_app.jobs.models import Job
from qc_app.jobs.services import create_job
from qc_app.web import config, download, files, now


def _enqueue_job(actor: User, kind: str, params: dict[str, str], guard: Guarded) -> Job:
    job = create_job(
        session=request_session(), actor=actor, kind=kind, params=params, guard=guard, now=now()
    )
    queue.enqueue(current_app, kind, job_id=job.id)
    return job


def request_issue(actor: User, code: str) -> Job:
    issuance.check_issue(session=request_session(), actor=actor, code=code)  # refused at once
    return _enqueue_job(actor, tasks.ISSUE, {"code": normalize(code)}, BATCH)


def request_reissue(actor: User, number: str, reason: str) -> Job:
    return _enqueue_job(
        actor,
        tasks.REISSUE,
        {"number": normalize(number), "reason": reason},
        MACHINE.transitions["reissue"],
    )


def wait_for(job: Job, seconds: float) -> Job:
    """The job as it stands once finished, or after `seconds`."""
    session = request_session()
    deadline = time.monotonic() + seconds
    while job.finished_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
        session.rollback()  # end the read: the next one sees what the worker committed
        session.refresh(job)
    return job


def issuing_setup() -> IssuingSetup:
    return IssuingSetup.from_config(config(), files())


def pdf_response(data: bytes, number: str) -> Response:
    """The PDF of a certificate found by `number`; its file name has the number as stored (the
    URL's may hold a newline, which no header can carry)."""
    return download(data, "application/pdf", f"certificate-{normalize(number)}.pdf")
