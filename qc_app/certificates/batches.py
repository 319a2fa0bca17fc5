"""Batch issuance: a tray of approved items recorded once, then issued step by step (each
certificate in its own transaction) by a worker's job (or the CLI), resumable after a crash:
a batch whose job died is resumed by the next worker (`interrupted_batches`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import authorize
from qc_app.certificates.issuance import IssuingSetup, issue_certificate
from qc_app.certificates.models import Certificate, IssuanceBatch
from qc_app.codes import normalize
from qc_app.db import write
from qc_app.errors import Conflict, DomainError, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.items import workflow
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.storage import StorageError

BATCH_LIMIT = 500
# Whoever may issue one certificate may start a batch, and nobody else: a batch started by a
# role the transition refuses would only collect a failure per item.
BATCH = workflow.TRANSITIONS["issue_certificate"]
# A step issues for about two seconds and whoever drives the batch (a worker's job, the CLI)
# calls the next one at once: a batch with no sign of life for this long is not being driven
# any more (its process was killed), and a step left holding it has died. Deployments set it
# with QC_BATCH_LEASE_SECONDS (Config.BATCH_LEASE_SECONDS).
BATCH_LEASE = timedelta(seconds=30)


class BatchState(StrEnum):
    RUNNING = "running"
    INTERRUPTED = "interrupted"  # not finished, and nothing issues for it: resume it
    FINISHED = "finished"


@dataclass(frozen=True)
class BatchStatus:
    batch_id: int
    total: int
    issued: dict[str, str]  # item code -> certificate number
    failures: dict[str, str]  # item code -> why it was not issued
    pending: list[str]
    state: BatchState
    busy: bool = False  # this call issued nothing: another step holds the batch right now

    @property
    def finished(self) -> bool:
        return self.state == BatchState.FINISHED

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "total": self.total,
            "issued": len(self.issued),
            "failed": len(self.failures),
            "pending": len(self.pending),
            "finished": self.finished,
            "state": self.state.value,
            "busy": self.busy,
            "failures": self.failures,
            "certificates": self.issued,
        }


def start_batch(*, session: Session, actor: User, codes: list[str], now: datetime) -> IssuanceBatch:
    """Record a tray of approved items to issue; issuing happens in `run_batch_step`."""
    authorize(actor, BATCH)
    codes = list(dict.fromkeys(normalize(code) for code in codes if code.strip()))
    if not codes:
        raise ValidationFailed(msg("没有选择物品"))
    if len(codes) > BATCH_LIMIT:
        raise ValidationFailed(msg("一批最多 {batch_limit} 件", batch_limit=BATCH_LIMIT))
    found = session.exec(select(Item).where(col(Item.code).in_(codes))).all()
    approved = {item.code for item in found if item.state == ItemState.APPROVED}
    if not_ready := [code for code in codes if code not in approved]:
        raise Conflict(
            msg(
                "以下物品不在待出证状态：{not_ready_zh}",
                not_ready_zh="、".join(not_ready[:10]),
                not_ready_en=", ".join(not_ready[:10]),
            ),
            code="illegal_transition",
        )
    batch = IssuanceBatch(
        created_by_id=actor.id or 0, created_at=now, item_codes=codes, failures={}
    )
    with write(session):
        session.add(batch)
        session.flush()
        audit.record(
            session, actor=actor, action="certificate_batch_started", entity="issuance_batch",
            entity_id=str(batch.id), at=now, items=len(codes),
        )  # fmt: skip
    return batch


def get_batch(*, session: Session, actor: User, batch_id: int) -> IssuanceBatch:
    authorize(actor, BATCH)
    batch = session.get(IssuanceBatch, batch_id)
    if batch is None:
        raise NotFound(msg("未找到出证批次"))
    return batch


def _batch_state(batch: IssuanceBatch, now: datetime, lease: timedelta) -> BatchState:
    if batch.finished_at is not None:
        return BatchState.FINISHED
    alive = batch.stepped_at or batch.created_at
    return BatchState.RUNNING if now - alive < lease else BatchState.INTERRUPTED


def batch_status(
    session: Session,
    batch: IssuanceBatch,
    *,
    now: datetime,
    busy: bool = False,
    lease: timedelta = BATCH_LEASE,
) -> BatchStatus:
    """Read from the items' certificates, so the figures are true even after a crash."""
    codes = batch.item_codes
    items = {i.id: i.code for i in session.exec(select(Item).where(col(Item.code).in_(codes)))}
    certificates = session.exec(
        select(Certificate).where(
            col(Certificate.item_id).in_(list(items)),
            col(Certificate.issued_at) >= batch.created_at,
        )
    ).all()
    issued = {items[c.item_id]: c.number for c in certificates if c.reissue_of is None}
    failures = {code: message for code, message in batch.failures.items() if code not in issued}
    pending = [code for code in codes if code not in issued and code not in failures]
    return BatchStatus(
        batch.id or 0, len(codes), issued, failures, pending, _batch_state(batch, now, lease), busy
    )


def unfinished_batches(
    *, session: Session, actor: User, now: datetime, limit: int = 20, lease: timedelta = BATCH_LEASE
) -> list[BatchStatus]:
    """The batches not finished yet, newest first: running, or interrupted and waiting to be
    resumed (the batch page lists them)."""
    authorize(actor, BATCH)
    query = select(IssuanceBatch).where(col(IssuanceBatch.finished_at).is_(None))
    found = session.exec(query.order_by(col(IssuanceBatch.id).desc()).limit(limit)).all()
    return [batch_status(session, batch, now=now, lease=lease) for batch in found]


def interrupted_batches(
    *, session: Session, now: datetime, lease: timedelta = BATCH_LEASE
) -> list[IssuanceBatch]:
    """Unfinished batches nothing has issued for within `lease`: their job died with its
    worker (or was never taken). Whoever resumes them runs as the inspector who started them."""
    query = select(IssuanceBatch).where(col(IssuanceBatch.finished_at).is_(None))
    found = session.exec(query.order_by(col(IssuanceBatch.id))).all()
    return [b for b in found if _batch_state(b, now, lease) == BatchState.INTERRUPTED]


def run_batch(
    *,
    session: Session,
    actor: User,
    batch_id: int,
    setup: IssuingSetup,
    clock: Callable[[], datetime],
    lease: timedelta = BATCH_LEASE,
) -> BatchStatus:
    """Issue the batch to its end, step after step (the worker's job). Returns early, issuing
    nothing more, when another live step holds the batch: that one carries it on."""
    while True:
        status = run_batch_step(
            session=session, actor=actor, batch_id=batch_id, setup=setup, now=clock(), lease=lease
        )
        if status.finished or status.busy:
            return status


def run_batch_step(
    *,
    session: Session,
    actor: User,
    batch_id: int,
    setup: IssuingSetup,
    now: datetime,
    budget_seconds: float = 2.0,
    lease: timedelta = BATCH_LEASE,
) -> BatchStatus:
    """Issue pending items of the batch for about `budget_seconds`, each certificate in its
    own transaction (all or nothing per certificate), and report progress. Called again and
    again by the worker's job (or the CLI) until nothing is pending; safe to repeat, and to
    call from two places at once: one step at a time holds the batch, the other returns busy.
    A step on an interrupted batch resumes it where it stands."""
    batch = get_batch(session=session, actor=actor, batch_id=batch_id)
    if not _take_step(session, actor, batch, now, lease):
        return batch_status(session, batch, now=now, busy=batch.finished_at is None, lease=lease)
    started = time.monotonic()
    try:
        for code in batch_status(session, batch, now=now).pending:
            try:
                issue_certificate(session=session, actor=actor, code=code, setup=setup, now=now)
            except (DomainError, OSError, StorageError) as exc:
                _record_failure(session, actor, batch, code, exc, now)
            if time.monotonic() - started >= budget_seconds:
                break
    finally:
        ended = now + timedelta(seconds=time.monotonic() - started)
        _end_step(session, actor, batch, ended)
    return batch_status(session, batch, now=ended, lease=lease)


def _take_step(
    session: Session, actor: User, batch: IssuanceBatch, now: datetime, lease: timedelta
) -> bool:
    """Hold the batch for one step, unless it is finished or another live step holds it."""
    with write(session, batch):
        if batch.finished_at is not None:
            return False
        held = batch.step_started_at
        if held is not None and now - held < lease:
            return False
        if _batch_state(batch, now, lease) == BatchState.INTERRUPTED:
            audit.record(
                session, actor=actor, action="certificate_batch_resumed",
                entity="issuance_batch", entity_id=str(batch.id), at=now,
                last_step=(batch.stepped_at or batch.created_at).isoformat(),
                step_cut_short=held is not None,
            )  # fmt: skip
        batch.step_started_at = now
        batch.stepped_at = now
        session.add(batch)
    return True


def _end_step(session: Session, actor: User, batch: IssuanceBatch, now: datetime) -> None:
    """Let go of the batch; the step that finds nothing pending finishes it."""
    status = batch_status(session, batch, now=now)
    with write(session, batch):
        batch.step_started_at = None
        batch.stepped_at = now
        session.add(batch)
        if not status.pending and batch.finished_at is None:
            batch.finished_at = now
            audit.record(
                session, actor=actor, action="certificate_batch_finished",
                entity="issuance_batch", entity_id=str(batch.id), at=now,
                issued=len(status.issued), failed=len(status.failures),
            )  # fmt: skip


def _record_failure(
    session: Session,
    actor: User,
    batch: IssuanceBatch,
    code: str,
    exc: Exception,
    now: datetime,
) -> None:
    message = (
        f"{exc.message.render('zh')} / {exc.message.render('en')}"
        if isinstance(exc, DomainError)
        else f"存储失败 / storage failed: {exc}"
    )
    with write(session, batch):
        # A new dict: the column sees an assignment, not a change inside its value.
        batch.failures = {**batch.failures, code: message[:300]}
        session.add(batch)
        audit.record(
            session, actor=actor, action="certificate_batch_item_failed",
            entity="issuance_batch", entity_id=str(batch.id), at=now, item=code,
            reason=message[:300],
        )  # fmt: skip
