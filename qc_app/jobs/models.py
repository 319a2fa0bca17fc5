from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from qc_app.sqltypes import JSONText, UTCDateTime


class JobOutcome(StrEnum):
    PENDING = "pending"  # on the queue, no worker has taken it yet
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(SQLModel, table=True):
    """Table: one request to the queue that a person or an integration waits on. Its outcome
    follows from the times and the error (no state column to drift): a worker killed mid-job
    leaves it running with an old `started_at`, and the job is run again (jobs.services)."""

    __tablename__ = "jobs"
    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=64)
    requested_by_id: int = Field(foreign_key="users.id", index=True)
    # The roles besides the requester who may read it: those that could have asked for it.
    readers: list[str] = Field(sa_column=Column(JSONText(), nullable=False))
    params: dict[str, Any] = Field(sa_column=Column(JSONText(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Runs taken so far: more than one means a worker died with it (or an enqueue doubled).
    attempts: int = 0
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONText()))
    # Part of the result only the requester sees, once (a certificate's check code): erased at
    # that first read, so the table never keeps what the certificates keep only as a digest.
    secret_result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONText()))
    # {"code", "status", "message": Message.as_data()}: the refusal it ended with (jobs.services).
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONText()))

    @property
    def outcome(self) -> JobOutcome:
        if self.finished_at is None:
            return JobOutcome.PENDING if self.started_at is None else JobOutcome.RUNNING
        return JobOutcome.FAILED if self.error is not None else JobOutcome.DONE
