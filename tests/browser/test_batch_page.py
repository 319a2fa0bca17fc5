"""The batch issuance pages in Chromium against a web process without the key passphrase and a
real `flask qc worker`: the progress page only follows the batch's job; closing it mid-batch
changes nothing; an interrupted batch says so, and 继续签发 puts it back on the queue."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlmodel import func, select

from qc_app.certificates import batches
from qc_app.certificates.models import Certificate, IssuanceBatch
from qc_app.sqltypes import utcnow
from tests.batch_support import time_passes
from tests.browser.conftest import serve
from tests.browser.steps import log_in
from tests.conftest import Flow, issuing_setup
from tests.queue_support import WebTier, queue_settings, start_worker, stop, wait_until, worker_env

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def certificates(db: Any) -> int:
    db.rollback()
    return int(db.exec(select(func.count()).select_from(Certificate)).one())


@pytest.fixture
def queue(app: Flask) -> dict[str, str]:
    return queue_settings(app)


@pytest.fixture
def web_server(app: Flask, queue: dict[str, str], web_tier: WebTier) -> Iterator[str]:
    yield from serve(web_tier(app, queue))


@pytest.fixture
def worker(
    app: Flask, queue: dict[str, str], cjk_font_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(worker_env(app, cjk_font_path, queue))
    yield process
    stop(process)


def test_progress_page_follows_the_whole_batch(
    page: Page, web_server: str, worker: Any, flow: Flow
) -> None:
    flow.approved(3)
    log_in(page, web_server, "inspector1")
    page.goto(f"{web_server}/certify/batch")
    page.get_by_role("button", name="全部签发").click()
    expect(page.locator("#batch-state")).to_have_text("完成", timeout=120_000)
    expect(page.locator("#batch-resume")).to_have_count(0)
    expect(page.locator("a.mono")).to_have_count(3)
    assert certificates(flow.db) == 3


def test_closing_the_page_mid_batch_changes_nothing(
    browser: Browser, web_server: str, worker: Any, flow: Flow
) -> None:
    flow.approved(4)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    log_in(page, web_server, "inspector1")
    page.goto(f"{web_server}/certify/batch")
    page.get_by_role("button", name="全部签发").click()
    page.wait_for_url("**/certify/batches/*")
    context.close()  # the tab, and the browser's session with it

    def finished() -> bool:
        flow.db.rollback()
        return flow.db.exec(select(IssuanceBatch)).one().finished_at is not None

    wait_until(finished, "the batch's end", worker)
    assert certificates(flow.db) == 4


def test_an_interrupted_batch_says_so_and_resume_puts_it_back_on_the_queue(
    page: Page, web_server: str, flow: Flow, app: Flask, queue: dict[str, str], cjk_font_path: Path
) -> None:
    codes = [item.code for item in flow.approved(3)]
    inspector = flow.world["inspector1"]
    batch = batches.start_batch(session=flow.db, actor=inspector, codes=codes, now=utcnow())
    batches.run_batch_step(
        session=flow.db, actor=inspector, batch_id=batch.id or 0,
        setup=issuing_setup(flow.app), now=utcnow(), budget_seconds=0.0,
    )  # fmt: skip
    time_passes(flow.app, batch.id or 0)  # and then its worker died; none runs now

    log_in(page, web_server, "inspector1")
    page.goto(f"{web_server}/certify/batches/{batch.id}")
    expect(page.locator("#batch-state")).to_have_text("已中断")
    resume = page.get_by_role("button", name="继续签发")
    expect(resume).to_be_visible()
    resume.click()
    worker = start_worker(worker_env(app, cjk_font_path, queue))
    try:
        expect(page.locator("#batch-state")).to_have_text("完成", timeout=120_000)
    finally:
        stop(worker)
    assert certificates(flow.db) == 3
