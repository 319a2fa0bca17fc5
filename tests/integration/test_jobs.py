"""Job records: who may read a job, the check code shown once, a job run again after its worker
died, stale jobs and interrupted batches put back on the queue (immediate mode: the task runs
where it is enqueued; test_queue.py runs them on real workers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from qc_app.certificates import batches, tasks
from qc_app.certificates.models import Certificate
from qc_app.db import write
from qc_app.errors import NotFound
from qc_app.jobs import services as jobs
from qc_app.jobs import tasks as job_tasks
from qc_app.jobs.models import Job, JobOutcome
from qc_app.sqltypes import utcnow
from tests.batch_support import time_passes
from tests.conftest import Flow
from tests.queue_support import WebTier, queue_settings
from tests.web.helpers import login, post_form

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def record_issue(flow: Flow, code: str, username: str = "inspector1") -> Job:
    return jobs.create_job(
        session=flow.db, actor=flow.world[username], kind=tasks.ISSUE,
        params={"code": code}, guard=batches.BATCH, now=utcnow(),
    )  # fmt: skip


def run(app: Flask, job: Job) -> None:
    with app.app_context():
        tasks.issue(app, job_id=job.id)


def certificates(db: Session) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(Certificate)).one())


def test_only_the_requester_and_staff_who_could_ask_read_a_job(flow: Flow, db: Session) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)
    assert jobs.get_job(session=db, actor=flow.world["inspector1"], job_id=job.id) == job
    for username in ("merchant1", "admin1", "analyst1"):
        with pytest.raises(NotFound):
            jobs.get_job(session=db, actor=flow.world[username], job_id=job.id)
    with pytest.raises(NotFound):
        jobs.get_job(session=db, actor=flow.world["inspector1"], job_id="x" * 40)


def test_the_check_code_is_shown_to_the_requester_once(app: Flask, flow: Flow, db: Session) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)
    run(app, job)
    db.refresh(job)
    assert job.outcome == JobOutcome.DONE
    inspector = flow.world["inspector1"]
    first = jobs.reveal(session=db, actor=inspector, job=job)
    again = jobs.reveal(session=db, actor=inspector, job=job)
    assert first["check_code"] and "check_code" not in again
    assert again["number"] == first["number"]


def test_a_job_run_again_after_its_worker_died_takes_the_certificate_it_made(
    app: Flask, flow: Flow, db: Session
) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)
    run(app, job)
    db.refresh(job)
    with write(db, job):  # as if the worker died between the commit and the job's end
        job.finished_at = job.result = job.secret_result = None
        db.add(job)
    run(app, job)
    db.refresh(job)
    assert job.outcome == JobOutcome.DONE and job.attempts == 2
    assert job.result and job.result["number"] and not job.secret_result
    assert certificates(db) == 1


def test_a_job_run_twice_after_it_finished_does_nothing(
    app: Flask, flow: Flow, db: Session
) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)
    run(app, job)
    run(app, job)
    db.refresh(job)
    assert job.attempts == 1 and certificates(db) == 1


def test_stale_jobs_are_put_back_on_the_queue(app: Flask, flow: Flow, db: Session) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)  # recorded, but its enqueue was lost
    assert jobs.stale_jobs(session=db, now=utcnow(), after=timedelta(seconds=30)) == []
    later = utcnow() + timedelta(minutes=1)
    assert jobs.stale_jobs(session=db, now=later, after=timedelta(seconds=30)) == [job]
    with write(db, job):
        job.created_at -= timedelta(minutes=1)
        db.add(job)
    with app.app_context():
        job_tasks.requeue_stale(app)
    db.refresh(job)
    assert job.outcome == JobOutcome.DONE and certificates(db) == 1


def test_an_interrupted_batch_is_resumed_by_the_periodic_task(
    app: Flask, flow: Flow, db: Session
) -> None:
    codes = [item.code for item in flow.approved(2)]
    batch = batches.start_batch(
        session=db, actor=flow.world["inspector1"], codes=codes, now=utcnow()
    )
    with app.app_context():
        tasks.resume_batches(app)
    assert certificates(db) == 0  # still within its lease: its own job may yet take it
    time_passes(app, batch.id or 0)
    with app.app_context():
        tasks.resume_batches(app)
    assert certificates(db) == 2


def test_the_job_page_waits_then_shows_the_refusal(
    app: Flask, flow: Flow, token: Any, web_tier: WebTier
) -> None:
    (item,) = flow.approved(1)
    queue = queue_settings(app)
    web = web_tier(app, queue)  # nobody consumes this queue: the job stays pending
    client = web.test_client()
    login(client, "inspector1")
    asked = post_form(client, "/certify", f"/certify/{item.code}", {})
    pending = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'data-outcome="pending"' in pending and 'http-equiv="refresh"' in pending
    job_id = asked.headers["Location"].rsplit("/", 1)[1]
    flow.certify(item)  # issued some other way before a worker took the job
    with app.app_context():  # the issuance tier (the test app holds the passphrase) runs it
        tasks.issue(app, job_id=job_id)
    failed = client.get(asked.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert 'data-outcome="failed"' in failed
    status = client.get(f"/api/v1/jobs/{job_id}", headers=token("inspector1")).get_json()
    assert status["status"] == "failed" and status["error"]["status"] == 409


def test_signing_commands_name_the_missing_passphrase(app: Flask, web_tier: WebTier) -> None:
    web = web_tier(app, queue_settings(app))
    with web.app_context():
        result = web.test_cli_runner().invoke(args=["qc", "keys", "rotate"])
    assert result.exit_code == 1 and "QC_KEY_PASSPHRASE is not set" in result.output


def test_a_job_that_never_finishes_is_given_up(app: Flask, flow: Flow, db: Session) -> None:
    (item,) = flow.approved(1)
    job = record_issue(flow, item.code)
    with write(db, job):  # three runs took it and died with their workers
        job.attempts, job.started_at = jobs.MAX_ATTEMPTS, utcnow()
        db.add(job)
    run(app, job)
    db.refresh(job)
    assert job.outcome == JobOutcome.FAILED and job.error and job.error["code"] == "job_abandoned"
    assert certificates(db) == 0
