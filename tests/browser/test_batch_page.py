"""The batch issuance pages in Chromium: the progress page drives a running batch to the end by
itself; an interrupted batch says so and waits for 继续签发, which carries it to the end."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.certificates import batches
from qc_app.certificates.models import Certificate
from qc_app.sqltypes import utcnow
from tests.batch_support import time_passes
from tests.browser.steps import log_in
from tests.conftest import Flow, issuing_setup

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def certificates(db: Any) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(Certificate)).one())


def test_progress_page_issues_the_whole_batch(page: Page, live_server: str, flow: Flow) -> None:
    flow.approved(3)
    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/certify/batch")
    page.get_by_role("button", name="全部签发").click()
    expect(page.locator("#batch-state")).to_have_text("完成", timeout=60_000)
    expect(page.locator("#batch-resume")).to_have_count(0)
    expect(page.locator("a.mono")).to_have_count(3)
    assert certificates(flow.db) == 3


def test_interrupted_batch_waits_for_the_inspector_then_resumes(
    page: Page, live_server: str, flow: Flow
) -> None:
    codes = [item.code for item in flow.approved(3)]
    inspector = flow.world["inspector1"]
    batch = batches.start_batch(session=flow.db, actor=inspector, codes=codes, now=utcnow())
    batches.run_batch_step(
        session=flow.db, actor=inspector, batch_id=batch.id or 0,
        setup=issuing_setup(flow.app), now=utcnow(), budget_seconds=0.0,
    )  # fmt: skip
    time_passes(flow.app, batch.id or 0)  # and then its process died

    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/certify/batches/{batch.id}")
    expect(page.locator("#batch-state")).to_have_text("已中断")
    resume = page.get_by_role("button", name="继续签发")
    expect(resume).to_be_visible()
    page.wait_for_timeout(1500)
    assert certificates(flow.db) == 1  # nothing resumed behind the inspector's back

    resume.click()
    expect(page.locator("#batch-state")).to_have_text("完成", timeout=60_000)
    assert certificates(flow.db) == 3
    flow.db.rollback()
    resumed = select(func.count()).where(AuditEvent.action == "certificate_batch_resumed")
    assert flow.db.exec(resumed).one() == 1
