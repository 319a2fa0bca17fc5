"""Append-only, hash-chained audit events.

Each event's hash covers the previous event's hash, so editing, deleting or inserting any row
breaks the chain from that point on; `verify_chain` finds the first broken link. The database
also refuses UPDATE and DELETE on the table (triggers in the migration).

A chain alone cannot show that its newest events were cut off. Signed checkpoints can: each
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

from sqlalchemy import Column, Text, text
from sqlmodel import Field, Session, SQLModel, col, select

from qc_app.sqltypes import UTCDateTime

GENESIS = "0" * 64
DOMAIN = b"qc-audit-v1\x00"
CHECKPOINT_DOMAIN = b"qc-audit-checkpoint-v1\x00"


class AuditEvent(SQLModel, table=True):
    """Table: one custody or decision event; never updated, never deleted."""

    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48, index=True)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)

    def details(self) -> dict[str, Any]:
        return json.loads(self.data)  # type: ignore[no-any-return]


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    data: str,
) -> str:
    body = _canonical([seq, at.isoformat(), actor, action, entity, entity_id, data])
    return hashlib.sha256(DOMAIN + prev_hash.encode() + body).hexdigest()


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
    """Append one event inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends to the chain; released at commit or rollback.
        session.execute(text("SELECT pg_advisory_xact_lock(727101)"))
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    name = actor.username if actor is not None else "system"
    payload = _canonical(data).decode()
    event = AuditEvent(
        seq=seq,
        at=at,
        actor_id=actor.id if actor is not None else None,
        actor=name,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        data=payload,
        prev_hash=prev,
        hash=_entry_hash(prev, seq, at, name, action, entity, str(entity_id), payload),
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None
    problem: str = ""


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
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    seq, head = (0, GENESIS) if last is None else (last.seq, last.hash)
    unsigned = Checkpoint(seq, head, now.isoformat(), kid, "")
    return Checkpoint(seq, head, unsigned.at, kid, sign(unsigned.signed_bytes()))


def verify_chain(session: Session, checkpoints: Sequence[Checkpoint] = ()) -> ChainReport:
    """Walk the chain; with checkpoints (signatures already checked), also find a cut tail."""
    return _walk(session, {c.seq: c for c in checkpoints})


def _walk(session: Session, checkpoints: dict[int, Checkpoint]) -> ChainReport:
    prev, expected_seq, count = GENESIS, 1, 0
    for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq)):  # type: ignore[arg-type]
        if event.seq != expected_seq:
            return ChainReport(False, count, prev, event.seq, f"sequence gap before {event.seq}")
        if event.prev_hash != prev:
            return ChainReport(False, count, prev, event.seq, "link to previous event broken")
        recomputed = _entry_hash(
            prev,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.entity,
            event.entity_id,
            event.data,
        )
        if recomputed != event.hash:
            return ChainReport(False, count, prev, event.seq, "event content was altered")
        signed = checkpoints.get(event.seq)
        if signed is not None and signed.hash != event.hash:
            return ChainReport(
                False, count, prev, event.seq, f"differs from the checkpoint signed at {signed.at}"
            )
        prev, expected_seq, count = event.hash, expected_seq + 1, count + 1
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


def history(session: Session, *, entity: str, entity_id: str | int) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
    )
    return list(session.exec(query.order_by(AuditEvent.seq)))  # type: ignore[arg-type]
