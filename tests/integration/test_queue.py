"""The queue with real `flask qc worker` processes (SQLite and Redis storage): web processes
without the key passphrase enqueue, the worker signs; the API answers 201 when the job is
quick, else 202 with a status URL; parallel requests give one certificate; a worker killed with
kill -9 mid-batch leaves nothing half-done and the next worker finishes the batch."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest
from flask import Flask
from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.certificates import batches
from qc_app.certificates.issuance import IssuingSetup
from qc_app.certificates.models import Certificate, IssuanceBatch
from qc_app.config import SigningUnavailable
from qc_app.db import engine_of, new_session
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.jobs.models import Job
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, stored_files, stored_pdfs
from tests.queue_support import (
    WebTier,
    queue_settings,
    running_worker,
    start_worker,
    stop,
    wait_until,
    worker_env,
)
from tests.web.helpers import login, post_form

pytestmark = pytest.mark.usefixtures("cjk_font_path")


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, app: Flask) -> dict[str, str]:
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return queue_settings(app, redis)


def count(app: Flask, query: Any) -> int:
    with new_session(engine_of(app)) as db:
        return int(db.exec(query).one())


def certificates(app: Flask) -> int:
    return count(app, select(func.count()).select_from(Certificate))


def events(app: Flask, action: str) -> int:
    return count(app, select(func.count()).where(AuditEvent.action == action))


def test_a_web_process_without_the_passphrase_cannot_sign(
    app: Flask, flow: Flow, web_tier: WebTier
) -> None:
    web = web_tier(app, queue_settings(app))
    with pytest.raises(SigningUnavailable, match="QC_KEY_PASSPHRASE"):
        IssuingSetup.from_config(web.config["QC"], stored_files(web))


def test_the_worker_refuses_to_start_without_the_passphrase(app: Flask, cjk_font_path: Any) -> None:
    env = worker_env(app, cjk_font_path, queue_settings(app), QC_KEY_PASSPHRASE="")
    worker = start_worker(env)
    assert worker.wait(timeout=120) == 1
    assert "QC_KEY_PASSPHRASE is not set" in stop(worker)


def test_the_api_issues_through_the_worker_and_verifies_without_the_passphrase(
    app: Flask, flow: Flow, token: Any, queue: dict[str, str], cjk_font_path: Any, web_tier: WebTier
) -> None:
    (item,) = flow.approved(1)
    headers = token("inspector1")
    web = web_tier(app, queue, ISSUE_WAIT_SECONDS=120.0).test_client()
    with running_worker(worker_env(app, cjk_font_path, queue)) as worker:
        answer = web.post(f"/api/v1/items/{item.code}/certificate", headers=headers)
        assert worker.poll() is None
    assert answer.status_code == 201, answer.get_json()
    issued = answer.get_json()
    assert issued["check_code"] and issued["verify_url"].startswith("http://qc.test/v/")
    found = web.get(f"/api/v1/certificates/{issued['number']}")
    assert found.status_code == 200 and found.get_json()["status"] == "valid"
    assert web.get(issued["verify_url"].removeprefix("http://qc.test")).status_code == 200


def test_the_api_answers_202_then_the_job_url_gives_the_certificate_once(
    app: Flask, flow: Flow, token: Any, queue: dict[str, str], cjk_font_path: Any, web_tier: WebTier
) -> None:
    (item,) = flow.approved(1)
    headers = token("inspector1")
    web = web_tier(app, queue, ISSUE_WAIT_SECONDS=0.0).test_client()
    queued = web.post(f"/api/v1/items/{item.code}/certificate", headers=headers)  # no worker yet
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    assert job["status"] == "pending" and queued.headers["Location"] == job["status_url"]
    assert web.get(job["status_url"], headers=headers).get_json()["status"] == "pending"
    assert web.get(job["status_url"], headers=token("merchant1")).status_code == 404

    with running_worker(worker_env(app, cjk_font_path, queue)) as worker:
        wait_until(lambda: certificates(app) == 1, "the certificate", worker)
        wait_until(
            lambda: web.get(job["status_url"], headers=headers).get_json()["status"] != "running",
            "the job's end",
            worker,
        )
    # The first read (the requester's) had the check code; it is not kept after that read.
    first = [web.get(job["status_url"], headers=headers).get_json() for _ in range(2)]
    done = first[0]
    assert done["status"] == "done" and done["certificate"]["number"]
    with new_session(engine_of(app)) as db:
        assert db.exec(select(Item).where(Item.code == item.code)).one().state == "certified"


def test_a_refused_issue_is_refused_at_once_with_nothing_queued(
    app: Flask, flow: Flow, token: Any, cjk_font_path: Any, web_tier: WebTier
) -> None:
    item, _ = flow.certified()  # certified already: issuing again is an illegal transition
    web = web_tier(app, queue_settings(app)).test_client()  # and no worker runs
    answer = web.post(f"/api/v1/items/{item.code}/certificate", headers=token("inspector1"))
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "illegal_transition"
    with new_session(engine_of(app)) as db:
        assert db.exec(select(func.count()).select_from(Job)).one() == 0


def test_parallel_requests_for_one_issue_give_one_certificate(
    app: Flask, flow: Flow, token: Any, queue: dict[str, str], cjk_font_path: Any, web_tier: WebTier
) -> None:
    (item,) = flow.approved(1)
    headers = token("inspector1")
    web = web_tier(app, queue, ISSUE_WAIT_SECONDS=120.0)
    answers: list[int] = []

    def ask() -> None:
        answer = web.test_client().post(f"/api/v1/items/{item.code}/certificate", headers=headers)
        answers.append(answer.status_code)

    with running_worker(worker_env(app, cjk_font_path, queue), workers=2):
        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(answers) == [201, 409, 409]
    assert certificates(app) == 1 and events(app, "issue_certificate") == 1


def test_the_web_page_issues_through_the_worker(
    app: Flask, flow: Flow, cjk_font_path: Any, web_tier: WebTier
) -> None:
    (item,) = flow.approved(1)
    queue = queue_settings(app)
    client = web_tier(app, queue).test_client()
    login(client, "inspector1")
    with running_worker(worker_env(app, cjk_font_path, queue)) as worker:
        asked = post_form(client, "/certify", f"/certify/{item.code}", {})
        assert asked.status_code == 302
        wait_until(lambda: certificates(app) == 1, "the certificate", worker)
        page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "证书已签发" in page


def test_a_worker_killed_mid_batch_leaves_nothing_half_done_and_the_next_one_finishes(
    app: Flask, flow: Flow, queue: dict[str, str], cjk_font_path: Any, web_tier: WebTier
) -> None:
    codes = [item.code for item in flow.approved(10)]
    env = worker_env(app, cjk_font_path, queue, QC_BATCH_LEASE_SECONDS="5")
    web = web_tier(app, queue, BATCH_LEASE_SECONDS=5.0).test_client()
    login(web, "inspector1")
    started = post_form(web, "/certify/batch", "/certify/batches", {"code": codes})
    batch_id = int(started.headers["Location"].rsplit("/", 1)[1])

    first = start_worker(env)
    try:
        wait_until(lambda: certificates(app) >= 2, "the first certificates", first)
    finally:
        first.kill()  # SIGKILL: no cleanup, exactly like a crash
    stop(first, signal.SIGKILL)
    assert certificates(app) < len(codes)
    # A loaded machine may start the first worker after the lease, so its first step resumes.
    resumed = events(app, "certificate_batch_resumed")

    def status() -> batches.BatchStatus:
        with new_session(engine_of(app)) as db:
            batch = db.get_one(IssuanceBatch, batch_id)
            return batches.batch_status(db, batch, now=utcnow(), lease=batches.BATCH_LEASE / 6)

    wait_until(lambda: status().state == batches.BatchState.INTERRUPTED, "the lease to lapse")
    with running_worker(env) as second:
        wait_until(lambda: status().finished, "the batch's end", second)

    done = status()
    assert sorted(done.issued) == sorted(codes) and not done.failures
    assert certificates(app) == len(codes)
    with new_session(engine_of(app)) as db:
        for code in codes:
            item = db.exec(select(Item).where(Item.code == code)).one()
            assert item.state == ItemState.CERTIFIED
            assert count(app, select(func.count()).where(Certificate.item_id == item.id)) == 1
            issued = select(func.count()).where(
                AuditEvent.action == "issue_certificate", AuditEvent.entity_id == code
            )
            assert count(app, issued) == 1
        referenced = set(db.exec(select(Certificate.pdf_sha256)).all())
    # A kill between a PDF and its row can leave that one file (swept later); never a row
    # without its PDF.
    assert referenced <= stored_pdfs(app) and len(stored_pdfs(app) - referenced) <= 1
    assert events(app, "certificate_batch_resumed") == resumed + 1
    assert events(app, "certificate_batch_finished") == 1
    page = web.get(f"/certify/batches/{batch_id}").get_data(as_text=True)
    assert "完成" in page
