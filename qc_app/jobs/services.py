"""The job record's life: recorded by whoever enqueues, taken, finished or failed by the task
that runs it, read by the requester (or staff who could have asked)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from qc_app.auth.models import User
from qc_app.authz import Guarded, Permission, Role, allows, authorize
from qc_app.db import write
from qc_app.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from qc_app.i18n import Message, msg
from qc_app.jobs.models import Job

NOT_FOUND = msg("未找到任务")
ABANDONED = msg("任务多次未能完成，已放弃；请重新提交")
MAX_ATTEMPTS = 3
_BY_STATUS: dict[int, type[DomainError]] = {
    kind.status: kind
    for kind in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
}


def create_job(
    *,
    session: Session,
    actor: User,
    kind: str,
    params: dict[str, Any],
    guard: Guarded,
    now: datetime,
) -> Job:
    """Record a job `actor` may ask for (`guard`); the caller enqueues it after this commits."""
    authorize(actor, guard)
    job = Job(
        id=uuid.uuid4().hex,
        kind=kind,
        requested_by_id=actor.id or 0,
        readers=sorted(guard.roles - {Role.MERCHANT}),
        params=params,
        created_at=now,
    )
    with write(session):
        session.add(job)
    return job


def get_job(*, session: Session, actor: User, job_id: str) -> Job:
    """The requester's job, or one staff of a role that could have asked for it may see; for
    anyone else it does not exist (404, as another shop's records)."""
    job = session.get(Job, job_id) if len(job_id) <= 32 else None
    if job is None or not _may_read(actor, job):
        raise NotFound(NOT_FOUND)
    return job


def _may_read(actor: User, job: Job) -> bool:
    readers = Permission("job_readers", frozenset(Role(r) for r in job.readers), NOT_FOUND)
    return job.requested_by_id == actor.id or allows(actor, readers)


def reveal(*, session: Session, actor: User, job: Job) -> dict[str, Any]:
    """The job's result for `actor`; the secret part goes to the requester, at the first read
    only, and is erased as it is read."""
    if not _may_read(actor, job):
        raise NotFound(NOT_FOUND)
    result = dict(job.result or {})
    if job.secret_result and job.requested_by_id == actor.id:
        result.update(job.secret_result)
        with write(session, job):
            job.secret_result = None
            session.add(job)
    return result


def start_job(*, session: Session, job_id: str, now: datetime) -> Job | None:
    """Take the job for this run; None when it is already finished (a task run twice), or
    given up: a job taken MAX_ATTEMPTS times without an end (its run crashes, or kills its
    worker) fails rather than come back every minute."""
    job = session.get(Job, job_id)
    if job is None or job.finished_at is not None:
        return None
    if job.attempts >= MAX_ATTEMPTS:
        fail_job(session=session, job=job, error=Conflict(ABANDONED, code="job_abandoned"), now=now)
        return None
    with write(session, job):
        job.started_at = now
        job.attempts += 1
        session.add(job)
    return job


def finish_job(
    *,
    session: Session,
    job: Job,
    result: dict[str, Any],
    now: datetime,
    secret: dict[str, Any] | None = None,
) -> None:
    """The job's result; a no-op when another run of it finished it first."""
    with write(session, job):
        if job.finished_at is None:
            job.result, job.secret_result, job.finished_at = result, secret, now
            session.add(job)


def fail_job(*, session: Session, job: Job, error: DomainError, now: datetime) -> None:
    """The job's error in the API's shape; a no-op when another run of it finished it first."""
    session.rollback()  # whatever the failed work left in the session is not this job's
    with write(session, job):
        if job.finished_at is not None:
            return
        job.error = {
            "code": error.code,
            "status": error.status,
            "message": error.message.as_data(),
        }
        job.finished_at = now
        session.add(job)


def job_error(job: Job) -> DomainError | None:
    """The refusal a failed job ended with, as the DomainError it was (same code, status and
    message), for the pages and the API to show as they show any other."""
    if job.error is None:
        return None
    kind = _BY_STATUS.get(job.error["status"], DomainError)
    return kind(Message.from_data(job.error["message"]), code=job.error["code"])


def stale_jobs(*, session: Session, now: datetime, after: timedelta) -> list[Job]:
    """Unfinished jobs nobody has shown progress on for `after`: never taken (the enqueue was
    lost), or taken by a worker that died with them."""
    cutoff = now - after
    query = select(Job).where(
        col(Job.finished_at).is_(None),
        or_(
            col(Job.started_at) < cutoff,
            col(Job.started_at).is_(None) & (col(Job.created_at) < cutoff),
        ),
    )
    return list(session.exec(query.order_by(col(Job.created_at)).limit(100)).all())
