"""Audit events written the short way, for the tests of the log itself."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from qc_app import audit
from qc_app.audit import AuditEvent
from qc_app.db import write
from qc_app.sqltypes import utcnow


def append(session: Session, name: str) -> int:
    """One audited transaction; returns the event's id."""
    with write(session):
        event = audit.record(
            session, actor=None, action="test_event", entity="test", entity_id=name, at=utcnow()
        )
    assert event.id is not None
    return event.id


def numbered(session: Session, event_id: int, name: str) -> AuditEvent:
    """An event given its id outright, as PostgreSQL's sequence would have handed it out."""
    event = AuditEvent(
        id=event_id,
        at=utcnow(),
        actor="system",
        action="test_event",
        entity="test",
        entity_id=name,
        data="{}",
    )
    with write(session):
        session.add(event)
        session.flush()  # the trigger queues it
        if session.get_bind().dialect.name == "postgresql":  # the sequence counts on from it
            session.execute(text("SELECT setval('audit_events_id_seq', MAX(id)) FROM audit_events"))
    return event
