"""Batch issuance cut short: a process killed mid-batch (kill -9) leaves every certificate whole
or absent, the batch reads as interrupted once nothing drives it (never "running" forever), and
it resumes where it stands: on the next worker (test_queue.py), the pages or the CLI. One step
at a time holds a batch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from qc_app.audit import AuditEvent
from qc_app.certificates import batches
from qc_app.certificates.batches import BatchState
from qc_app.certificates.models import Certificate, IssuanceBatch
from qc_app.config import ROOT
from qc_app.db import engine_of, new_session, write
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.orphans import sweep_orphans
from qc_app.sqltypes import utcnow
from tests.batch_support import LATER, time_passes
from tests.conftest import Flow, issuing_setup, stored_files, stored_pdfs
from tests.web.helpers import csrf, login

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def fresh(app: Flask) -> Session:
    return new_session(engine_of(app))


def events(app: Flask, action: str) -> int:
    with fresh(app) as db:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return int(db.exec(query).one())


def certificates_issued(app: Flask) -> int:
    with fresh(app) as db:
        return int(db.exec(select(func.count()).select_from(Certificate)).one())


def status_of(app: Flask, batch_id: int, now: datetime | None = None) -> batches.BatchStatus:
    with fresh(app) as db:
        batch = db.get(IssuanceBatch, batch_id)
        assert batch is not None
        return batches.batch_status(db, batch, now=now or utcnow())


def assert_each_certificate_whole_or_absent(app: Flask, codes: list[str]) -> None:
    """Certified ⇔ exactly one certificate row ⇔ one audit event, and its PDF is on disk."""
    on_disk = stored_pdfs(app)
    with fresh(app) as db:
        for code in codes:
            item = db.exec(select(Item).where(Item.code == code)).one()
            rows = db.exec(select(Certificate).where(Certificate.item_id == item.id)).all()
            issued = db.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "issue_certificate", AuditEvent.entity_id == code)
            ).one()
            if item.state == ItemState.CERTIFIED:
                assert len(rows) == 1 and issued == 1, code
                assert rows[0].pdf_sha256 in on_disk, code
            else:
                assert item.state == ItemState.APPROVED, code
                assert rows == [] and issued == 0, code


def cli_env(app: Flask, cjk_font_path: Any) -> dict[str, str]:
    qc = app.config["QC"]
    return {
        **os.environ,
        "SECRET_KEY": qc.SECRET_KEY,
        "QC_KEY_PASSPHRASE": qc.KEY_PASSPHRASE,
        "QC_CHECK_CODE_KEY": qc.CHECK_CODE_SECRET,
        "QC_INSTANCE_PATH": str(qc.INSTANCE_PATH),
        "QC_STORAGE_URL": qc.STORAGE_URL,
        "QC_S3_ENDPOINT_URL": qc.S3_ENDPOINT_URL or "",
        **(
            {
                "AWS_ACCESS_KEY_ID": qc.S3_CREDENTIALS.access_key_id,
                "AWS_SECRET_ACCESS_KEY": qc.S3_CREDENTIALS.secret_access_key,
                "AWS_REGION": qc.S3_REGION,
            }
            if qc.S3_CREDENTIALS
            else {}
        ),
        "DATABASE_URL": engine_of(app).url.render_as_string(hide_password=False),
        "QC_CJK_FONT": str(cjk_font_path),
    }


def test_a_batch_killed_mid_way_is_interrupted_and_resumes_on_the_pages(
    app: Flask, flow: Flow, cjk_font_path: Any
) -> None:
    codes = [item.code for item in flow.approved(8)]
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "qc_app", "qc", "certificates", "issue-batch",
         "--as", "inspector1", *codes],
        cwd=ROOT, env=cli_env(app, cjk_font_path),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while certificates_issued(app) < 2 and worker.poll() is None:
            assert time.monotonic() < deadline, "the batch never issued"
            time.sleep(0.01)
    finally:
        worker.kill()  # SIGKILL: no cleanup, no finally, exactly like a crash
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == -9, stderr.decode()[-2000:]

    with fresh(app) as db:
        batch = db.exec(select(IssuanceBatch)).one()
    killed = status_of(app, batch.id or 0)
    assert killed.pending and not killed.finished
    assert_each_certificate_whole_or_absent(app, codes)
    # Not "running" forever: once nothing has driven it for the lease, it reads interrupted.
    assert status_of(app, batch.id or 0, now=utcnow() + LATER).state == BatchState.INTERRUPTED
    # A kill between storing a PDF and committing its row leaves at most that file: swept.
    with fresh(app) as db:
        sweep_orphans(session=db, files=stored_files(app), now=utcnow() + timedelta(hours=1))
        assert stored_pdfs(app) == set(db.exec(select(Certificate.pdf_sha256)).all())

    time_passes(app, batch.id or 0)
    client = app.test_client()
    login(client, "inspector1")
    listed = client.get("/certify/batch").get_data(as_text=True)
    assert f"#{batch.id}" in listed and "已中断" in listed
    page_url = f"/certify/batches/{batch.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert "已中断" in page and 'id="batch-resume"' in page and "继续签发" in page
    token = csrf(client, page_url)
    # 继续签发 puts the batch's job on the queue (run in the request here: immediate mode).
    resumed = client.post(f"{page_url}/resume", data={"csrf_token": token})
    assert resumed.status_code == 302
    done = client.get(f"{page_url}/status", headers={"Accept": "application/json"}).get_json()
    assert done["state"] == "finished" and done["issued"] == len(codes), done
    assert_each_certificate_whole_or_absent(app, codes)
    assert events(app, "certificate_batch_resumed") == 1
    assert events(app, "certificate_batch_finished") == 1


def test_a_batch_nobody_drives_reads_interrupted_after_the_lease(flow: Flow) -> None:
    codes = [item.code for item in flow.approved(1)]
    now = utcnow()
    batch = batches.start_batch(
        session=flow.db, actor=flow.world["inspector1"], codes=codes, now=now
    )
    assert batches.batch_status(flow.db, batch, now=now).state == BatchState.RUNNING
    assert batches.batch_status(flow.db, batch, now=now + LATER).state == BatchState.INTERRUPTED


def test_one_step_at_a_time_holds_a_batch_until_its_lease_lapses(flow: Flow) -> None:
    codes = [item.code for item in flow.approved(2)]
    inspector, now = flow.world["inspector1"], utcnow()
    batch = batches.start_batch(session=flow.db, actor=inspector, codes=codes, now=now)
    with write(flow.db, batch):
        batch.step_started_at = batch.stepped_at = now  # a step in flight elsewhere

    def step(at: datetime) -> batches.BatchStatus:
        return batches.run_batch_step(
            session=flow.db, actor=inspector, batch_id=batch.id or 0,
            setup=issuing_setup(flow.app), now=at, budget_seconds=0.0,
        )  # fmt: skip

    held = step(now)
    assert held.busy and held.state == BatchState.RUNNING and len(held.pending) == 2
    # That step died with its process: after the lease, the next step takes over.
    taken = step(now + LATER)
    assert not taken.busy and len(taken.issued) == 1
    assert events(flow.app, "certificate_batch_resumed") == 1
    with fresh(flow.app) as db:
        resumed = db.exec(
            select(AuditEvent).where(AuditEvent.action == "certificate_batch_resumed")
        ).one()
        assert resumed.details()["step_cut_short"] is True
        left = db.get(IssuanceBatch, batch.id)
        assert left is not None and left.step_started_at is None  # let go after the step


def test_the_cli_resumes_an_interrupted_batch(app: Flask, flow: Flow) -> None:
    codes = [item.code for item in flow.approved(3)]
    inspector, now = flow.world["inspector1"], utcnow()
    batch = batches.start_batch(session=flow.db, actor=inspector, codes=codes, now=now)
    batches.run_batch_step(
        session=flow.db, actor=inspector, batch_id=batch.id or 0,
        setup=issuing_setup(app), now=now, budget_seconds=0.0,
    )  # fmt: skip
    time_passes(app, batch.id or 0)
    args = ["qc", "certificates", "issue-batch", "--as", "inspector1", "--resume", str(batch.id)]
    with app.app_context():
        result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"batch {batch.id}: 3/3 (issued 3, failed 0)" in result.output
    assert status_of(app, batch.id or 0).state == BatchState.FINISHED
    assert events(app, "certificate_batch_resumed") == 1
    assert_each_certificate_whole_or_absent(app, codes)
