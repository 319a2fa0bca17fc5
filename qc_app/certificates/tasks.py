"""What the issuance tier runs on the queue: thin wrappers over the services, each with its own
session in the worker's app context. Views and the API record a job (or a batch) and enqueue;
only a process given QC_KEY_PASSPHRASE (the worker, or a test app in immediate mode) signs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from qc_app import queue
from qc_app.auth.models import User
from qc_app.certificates import batches, issuance, revocation
from qc_app.certificates.issuance import Issued, IssuingSetup
from qc_app.certificates.models import IssuanceBatch
from qc_app.db import request_session
from qc_app.errors import DomainError, NotFound
from qc_app.i18n import msg
from qc_app.jobs import services as jobs
from qc_app.sqltypes import utcnow
from qc_app.web import files

ISSUE = "certificates.issue"
REISSUE = "certificates.reissue"
RUN_BATCH = "certificates.run_batch"


def lease_of(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["QC"].BATCH_LEASE_SECONDS)


def issued_json(issued: Issued) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job's result, and its secret part (the check code, shown once)."""
    certificate = issued.certificate
    result = {
        "number": certificate.number,
        "verify_url": issued.verify_url,
        "reissue_of": certificate.reissue_of,
    }
    return result, {"check_code": issued.check_code}


def _run_issuing_job(app: Flask, job_id: str, kind: str) -> None:
    session = request_session()
    job = jobs.start_job(session=session, job_id=job_id, now=utcnow())
    if job is None:
        return
    try:
        actor = session.get(User, job.requested_by_id)
        if actor is None or not actor.active:
            raise NotFound(msg("未找到用户"))
        setup = IssuingSetup.from_config(app.config["QC"], files())
        if kind == ISSUE:
            issued = issuance.issue_certificate(
                session=session, actor=actor, code=job.params["code"], setup=setup, now=utcnow()
            )
        else:
            issued = revocation.reissue(
                session=session,
                actor=actor,
                number=job.params["number"],
                reason=job.params["reason"],
                setup=setup,
                now=utcnow(),
            )
    except DomainError as exc:
        earlier = (
            kind == ISSUE
            and job.attempts > 1
            and issuance.issued_since(
                session=session, code=job.params["code"], since=job.created_at
            )
        )
        if earlier:
            # Issued by an earlier run of this job whose worker died before it could say so:
            # done, without the check code (printed on the PDF; only its digest is stored).
            result = {"number": earlier.number, "verify_url": None, "reissue_of": None}
            jobs.finish_job(session=session, job=job, result=result, now=utcnow())
        else:
            jobs.fail_job(session=session, job=job, error=exc, now=utcnow())
        return
    result, secret = issued_json(issued)
    jobs.finish_job(session=session, job=job, result=result, secret=secret, now=utcnow())


@queue.task(ISSUE)
def issue(app: Flask, *, job_id: str) -> None:
    _run_issuing_job(app, job_id, ISSUE)


@queue.task(REISSUE)
def reissue(app: Flask, *, job_id: str) -> None:
    _run_issuing_job(app, job_id, REISSUE)


@queue.task(RUN_BATCH)
def run_batch(app: Flask, *, batch_id: int) -> None:
    """Issue the batch to its end, as the inspector who started it."""
    session = request_session()
    batch = session.get(IssuanceBatch, batch_id)
    actor = session.get(User, batch.created_by_id) if batch is not None else None
    if actor is None:
        return
    batches.run_batch(
        session=session,
        actor=actor,
        batch_id=batch_id,
        setup=IssuingSetup.from_config(app.config["QC"], files()),
        clock=utcnow,
        lease=lease_of(app),
    )


@queue.periodic("certificates.resume_batches")
def resume_batches(app: Flask) -> None:
    """Pick up what a killed worker left: batches without a sign of life for a lease."""
    session = request_session()
    found = batches.interrupted_batches(session=session, now=utcnow(), lease=lease_of(app))
    for batch in found:
        queue.enqueue(app, RUN_BATCH, batch_id=batch.id)
