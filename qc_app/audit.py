"""Append-only, hash-chained audit events, written without a global lock.

Writers and the chain are apart, as in a Certificate Transparency log (RFC 9162 §4; Trillian's
queue of unsequenced leaves and its sequencer): `record` inserts the event (a trigger queues it) in
the writer's own transaction, taking no lock and reading nothing, so audited writes run side by
side. `sequence` is the one writer of the chain: one at a time (an advisory lock on PostgreSQL,
the single writer on SQLite) it takes queued events in batches, in id order, and appends one
link each to `audit_chain`, whose hash covers the previous link's hash, the link's number, the
event's id and its content. Editing, deleting or inserting any event or link breaks the chain
from that point on; `verify_chain` finds the first broken link. The database also refuses
UPDATE and DELETE on both tables (triggers in the migrations).

An event that is committed but still queued is not yet protected by the chain: `verify_chain`
counts it as pending. The delay is kept short (the log's "maximum merge delay"): `sequence`
runs before every checkpoint and every verification, from `flask qc audit sequence`, and
periodically from the worker. Readers order events by `id`: events about one entity are
written under that entity's row lock, so their ids follow their commits; the chain's `seq`
exists only for events already sequenced.

A chain alone cannot show that its newest links were cut off. Signed checkpoints can: each
states the head (sequence number and hash) at a moment, signed with the certificate signing
key, and is exported to a file kept outside the database. `verify_chain` given checkpoints
reports a head that is missing or different.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Column, Integer, Text, delete, exists, text
from sqlmodel import Field, Session, SQLModel, col, func, select

from qc_app.db import write
from qc_app.sqltypes import UTCDateTime

GENESIS = "0" * 64
DOMAIN = b"qc-audit-v1\x00"
CHECKPOINT_DOMAIN = b"qc-audit-checkpoint-v1\x00"
# Held by the sequencer until its batch commits (the number the old global append lock had).
SEQUENCER_LOCK = 727101
BATCH = 500


class AuditEvent(SQLModel, table=True):
    """Table: one custody or decision event; never updated, never deleted."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48, index=True)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    data: str = Field(sa_column=Column(Text, nullable=False))

    def details(self) -> dict[str, Any]:
        return json.loads(self.data)  # type: ignore[no-any-return]


class AuditLink(SQLModel, table=True):
    """Table: the hash chain, one link per event in the order the sequencer took them; never
    updated, never deleted."""

    __tablename__ = "audit_chain"
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    event_id: int = Field(foreign_key="audit_events.id", unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditQueued(SQLModel, table=True):
    """Table: events committed but not yet chained (the sequencer's queue); a row leaves when
    its event is chained."""

    __tablename__ = "audit_queue"
    event_id: int = Field(primary_key=True, foreign_key="audit_events.id")


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, seq: int, event: AuditEvent) -> str:
    """The hash of link `seq` for `event`. The event's id is appended only where it differs
    from `seq`, so the links written before sequencing existed (event id = seq) keep their
    hashes, and with them the checkpoints signed over them; the list's length tells the two
    forms apart, so no two links share their hashed bytes."""
    body: list[Any] = [
        seq,
        event.at.isoformat(),
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.data,
    ]
    if event.id != seq:
        body.append(event.id)
    return hashlib.sha256(DOMAIN + prev_hash.encode() + _canonical(body)).hexdigest()


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: str | int,
    at: datetime,
    **data: Any,
) -> AuditEvent:
    """Append one event inside the caller's transaction; the database queues it for the chain
    (a trigger, migration 0014: one round trip, and no event stored without its queue entry)."""
    event = AuditEvent(
        at=at,
        actor_id=actor.id if actor is not None else None,
        actor=actor.username if actor is not None else "system",
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        data=_canonical(data).decode(),
    )
    row = {name: getattr(event, name) for name in _STORED}
    event.id = session.execute(_STORE, row).scalar_one()
    return event


# The table's own INSERT, compiled once: the ORM's per-statement bookkeeping cost more than the
# database's work on every audited write (bench/audit_writes.py).
_STORE = AuditEvent.__table__.insert().returning(AuditEvent.__table__.c.id)  # type: ignore[attr-defined]
_STORED = [c.name for c in AuditEvent.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]


def sequence(session: Session, *, batch: int = BATCH) -> int:
    """Chain the queued events, `batch` to a transaction, until the queue is empty; returns
    how many were chained.

    The queue, not "ids above the last chained one", says what is left: on PostgreSQL an event
    with a lower id can commit after a higher one was chained, and is chained by a later run.
    """
    total = 0
    while True:
        with write(session):
            done = _chain_batch(session, batch)
        total += done
        if done < batch:
            return total


def _chain_batch(session: Session, batch: int) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    queued = session.exec(
        select(AuditEvent)
        .join(AuditQueued, col(AuditQueued.event_id) == col(AuditEvent.id))
        .order_by(col(AuditEvent.id))
        .limit(batch)
    ).all()
    if not queued:
        return 0
    seq, prev = _head(session)
    for event in queued:
        assert event.id is not None
        seq += 1
        link = AuditLink(
            seq=seq, event_id=event.id, prev_hash=prev, hash=link_hash(prev, seq, event)
        )
        session.add(link)
        prev = link.hash
    session.flush()
    ids = [event.id for event in queued]
    session.execute(delete(AuditQueued).where(col(AuditQueued.event_id).in_(ids)))
    return len(queued)


def _head(session: Session) -> tuple[int, str]:
    last = session.exec(select(AuditLink).order_by(col(AuditLink.seq).desc()).limit(1)).first()
    return (0, GENESIS) if last is None else (last.seq, last.hash)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None
    problem: str = ""
    pending: int = 0  # committed events not yet chained, hence not yet protected


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, signed; one JSON line in the exported file."""

    seq: int
    hash: str
    at: str
    kid: str
    signature: str

    def signed_bytes(self) -> bytes:
        return CHECKPOINT_DOMAIN + _canonical({"seq": self.seq, "hash": self.hash, "at": self.at})

    def to_json(self) -> str:
        return _canonical(asdict(self)).decode()

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        fields = json.loads(line)
        return cls(
            seq=int(fields["seq"]),
            hash=str(fields["hash"]),
            at=str(fields["at"]),
            kid=str(fields["kid"]),
            signature=str(fields["signature"]),
        )


def make_checkpoint(
    session: Session, *, kid: str, sign: Callable[[bytes], str], now: datetime
) -> Checkpoint:
    """Chain what is queued, then sign the head."""
    sequence(session)
    seq, head = _head(session)
    unsigned = Checkpoint(seq, head, now.isoformat(), kid, "")
    return Checkpoint(seq, head, unsigned.at, kid, sign(unsigned.signed_bytes()))


def verify_chain(
    session: Session, checkpoints: Sequence[Checkpoint] = (), *, since: Checkpoint | None = None
) -> ChainReport:
    """Walk the chain; with checkpoints (signatures already checked), also find a cut tail.

    `since` (a checkpoint whose signature was checked) starts the walk after its position: the
    link there must still hold the signed hash, and every later one is recomputed. What came
    before is vouched for by that signature as far as cuts and rewrites of the chain go; an edit
    of an older event's content is found by a walk from the first event (no `since`).
    Reads only: run `sequence` first to have every committed event checked."""
    start = (0, GENESIS)
    anchor = None
    if since is not None:
        anchor = session.exec(select(AuditLink).where(AuditLink.seq == since.seq)).first()
    # No link where the checkpoint signed one: the tail was cut; the walk from the first event
    # says which events are missing.
    if since is not None and anchor is not None:
        if anchor.hash != since.hash:
            problem = f"differs from the checkpoint signed at {since.at}"
            return ChainReport(False, since.seq - 1, GENESIS, since.seq, problem)
        start = (since.seq, since.hash)
    report = _walk(session, {c.seq: c for c in checkpoints}, start)
    pending = session.exec(select(func.count()).select_from(AuditQueued)).one()
    if report.ok:
        report = _lost(session, report)
    return ChainReport(
        report.ok, report.events, report.head, report.broken_at, report.problem, pending
    )


def _walk(
    session: Session, checkpoints: dict[int, Checkpoint], start: tuple[int, str]
) -> ChainReport:
    """`count` is the chain's length so far: from `start` (position, hash) on, each link must
    follow its predecessor."""
    (count, prev), expected_seq = start, start[0] + 1
    links = (
        select(AuditLink, AuditEvent)
        .join(AuditEvent, col(AuditEvent.id) == col(AuditLink.event_id), isouter=True)
        .where(col(AuditLink.seq) > start[0])
        .order_by(col(AuditLink.seq))
    )
    for link, event in session.exec(links):
        if link.seq != expected_seq:
            return ChainReport(False, count, prev, link.seq, f"sequence gap before {link.seq}")
        if link.prev_hash != prev:
            return ChainReport(False, count, prev, link.seq, "link to previous event broken")
        if event is None:
            return ChainReport(False, count, prev, link.seq, f"event {link.event_id} is missing")
        if link_hash(prev, link.seq, event) != link.hash:
            return ChainReport(False, count, prev, link.seq, "event content was altered")
        signed = checkpoints.get(link.seq)
        if signed is not None and signed.hash != link.hash:
            return ChainReport(
                False, count, prev, link.seq, f"differs from the checkpoint signed at {signed.at}"
            )
        prev, expected_seq, count = link.hash, expected_seq + 1, count + 1
    beyond = [c for c in checkpoints.values() if c.seq > count]
    if beyond:
        latest = max(beyond, key=lambda c: c.seq)
        return ChainReport(
            False,
            count,
            prev,
            count + 1,
            f"events {count + 1}–{latest.seq} are missing (checkpoint signed at {latest.at})",
        )
    return ChainReport(True, count, prev)


def _lost(session: Session, report: ChainReport) -> ChainReport:
    """An event neither chained nor queued: its queue entry was removed before it was chained."""
    chained = exists().where(col(AuditLink.event_id) == col(AuditEvent.id))
    queued = exists().where(col(AuditQueued.event_id) == col(AuditEvent.id))
    lost = session.exec(
        select(AuditEvent.id).where(~chained, ~queued).order_by(col(AuditEvent.id)).limit(1)
    ).first()
    if lost is None:
        return report
    problem = f"event {lost} is neither chained nor queued"
    return ChainReport(False, report.events, report.head, report.events + 1, problem)


def history(session: Session, *, entity: str, entity_id: str | int) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
    )
    return list(session.exec(query.order_by(col(AuditEvent.id))))
