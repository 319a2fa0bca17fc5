"""The hash-chained audit log: one event per transition, an intact chain on a real run, and
every kind of tampering found at the right place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from qc_app import audit
from qc_app.audit import AuditEvent, AuditLink, ChainReport, verify_chain
from qc_app.db import engine_of, new_session
from qc_app.inspection.services import send_back
from qc_app.items.models import Item
from qc_app.items.services import hold_item, release_item, return_shipped
from qc_app.items.workflow import TRANSITIONS
from qc_app.orders.services import create_order, pack, ship
from qc_app.sqltypes import utcnow
from tests.conftest import Flow

Step = tuple[str, str, str | None, str]  # action, actor, before, after


def item_events(app: Flask, code: str) -> list[AuditEvent]:
    with new_session(engine_of(app)) as fresh:
        return audit.history(fresh, entity="item", entity_id=code)


def steps(events: list[AuditEvent]) -> list[Step]:
    return [
        (e.action, e.actor, e.details().get("before"), e.details().get("after")) for e in events
    ]


def run_fail_path(flow: Flow) -> Item:
    item = flow.declare()
    flow.receive(item)
    flow.approve(flow.inspect(item, fineness="750.0"))
    return_shipped(
        session=flow.db,
        actor=flow.world["inspector1"],
        code=item.code,
        waybill_no="SF-RET-9",
        now=utcnow(),
    )
    return item


def run_hold_path(flow: Flow) -> Item:
    item = flow.declare()
    flow.receive(item)
    hold_item(
        session=flow.db,
        actor=flow.world["inspector1"],
        code=item.code,
        reason="label unreadable",
        now=utcnow(),
    )
    release_item(session=flow.db, actor=flow.world["admin1"], code=item.code, now=utcnow())
    return item


def run_retest_path(flow: Flow) -> Item:
    item = flow.declare()
    flow.receive(item)
    first = flow.inspect(item, fineness="989.0")
    send_back(
        session=flow.db,
        actor=flow.world["reviewer2"],
        inspection_id=first.id,
        note="re-measure",
        now=utcnow(),
    )
    flow.approve(flow.inspect(item))
    return item


INTAKE: list[Step] = [
    ("declare", "merchant1", None, "declared"),
    ("receive", "inspector1", "declared", "received"),
    ("start_inspection", "analyst1", "received", "in_inspection"),
    ("submit_result", "analyst1", "in_inspection", "review"),
]
PATHS: dict[str, tuple[Callable[[Flow], Item], list[Step]]] = {
    "fail and return": (
        run_fail_path,
        [
            *INTAKE,
            ("approve_fail", "reviewer1", "review", "return_to_merchant"),
            ("return_shipped", "inspector1", "return_to_merchant", "returned"),
        ],
    ),
    "hold and release": (
        run_hold_path,
        [
            *INTAKE[:2],
            ("hold", "inspector1", "received", "on_hold"),
            ("release", "admin1", "on_hold", "received"),
        ],
    ),
    "send back and retest": (
        run_retest_path,
        [
            *INTAKE,
            ("send_back", "reviewer2", "review", "in_inspection"),
            ("submit_result", "analyst1", "in_inspection", "review"),
            ("approve_pass", "reviewer1", "review", "approved"),
        ],
    ),
}


@pytest.mark.parametrize(("run", "expected"), PATHS.values(), ids=PATHS.keys())
def test_each_transition_writes_one_event_with_actor_before_after(
    app: Flask, flow: Flow, run: Callable[[Flow], Item], expected: list[Step]
) -> None:
    item = run(flow)
    assert steps(item_events(app, item.code)) == expected


def test_certified_item_history_through_shipping(
    app: Flask, flow: Flow, cjk_font_path: Any
) -> None:
    item, issued = flow.certified()
    world = flow.world
    create_order(
        session=flow.db,
        actor=world["admin1"],
        order_no="O-1",
        listing_id=world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no="SF9",
        now=utcnow(),
    )
    pack(
        session=flow.db,
        actor=world["inspector1"],
        waybill_no="SF9",
        item_code=item.code,
        certificate_scan=issued.verify_url,
        seal_no="SEAL-9",
        mass_g="5.03",
        now=utcnow(),
    )
    ship(session=flow.db, actor=world["inspector1"], waybill_no="SF9", now=utcnow())
    assert steps(item_events(app, item.code)) == [
        *INTAKE,
        ("approve_pass", "reviewer1", "review", "approved"),
        ("issue_certificate", "inspector1", "approved", "certified"),
        ("pack", "inspector1", "certified", "packed"),
        ("ship", "inspector1", "packed", "shipped"),
    ]


def test_events_name_the_actor_by_id_and_match_the_transition_table(app: Flask, flow: Flow) -> None:
    item = run_retest_path(flow)
    users = {u.username: u.id for u in flow.world.users.values()}
    for event in item_events(app, item.code)[1:]:
        spec = TRANSITIONS[event.action]
        assert event.actor_id == users[event.actor]
        assert event.details()["before"] in spec.sources
        if spec.target is not None:
            assert event.details()["after"] == spec.target


# -- the chain --------------------------------------------------------------------------------


def chain(app: Flask) -> ChainReport:
    """The chain as `flask qc audit verify` sees it: what is queued chained first."""
    with new_session(engine_of(app)) as fresh:
        audit.sequence(fresh)
        return verify_chain(fresh)


def seqs(db: Session) -> list[int]:
    return list(db.exec(select(AuditLink.seq).order_by(col(AuditLink.seq))))


def event_of(db: Session, seq: int) -> AuditEvent:
    link = db.get(AuditLink, seq)
    assert link is not None
    event = db.get(AuditEvent, link.event_id)
    assert event is not None
    return event


def test_chain_is_intact_after_a_real_run(
    app: Flask, flow: Flow, db: Session, cjk_font_path: Any
) -> None:
    flow.certified()
    run_fail_path(flow)
    report = chain(app)
    total = db.exec(select(func.count()).select_from(AuditEvent)).one()
    assert (report.ok, report.broken_at, report.events, report.pending) == (True, None, total, 0)
    assert (
        report.head == db.exec(select(AuditLink.hash).order_by(col(AuditLink.seq).desc())).first()
    )


def test_events_wait_in_the_queue_until_sequenced(app: Flask, flow: Flow, db: Session) -> None:
    item = flow.declare()
    flow.receive(item)
    waiting = verify_chain(db)
    assert (waiting.ok, waiting.events) == (True, 0) and waiting.pending > 0
    assert audit.sequence(db) == waiting.pending
    assert verify_chain(db).pending == 0


def allow_tampering(db: Session) -> None:
    """What an attacker with database access does first: switch off the append-only triggers."""
    for table in ("audit_events", "audit_chain"):
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        else:
            db.execute(text(f"DROP TRIGGER {table}_no_update"))
            db.execute(text(f"DROP TRIGGER {table}_no_delete"))
    db.commit()
    db.expire_all()


@pytest.fixture
def tamperable(app: Flask, flow: Flow, db: Session) -> list[int]:
    """A real run, chained, with the triggers off; returns the links' sequence numbers."""
    run_fail_path(flow)
    assert chain(app).ok
    allow_tampering(db)
    return seqs(db)


def pick(links: list[int], where: str) -> int:
    return {"first": links[0], "middle": links[len(links) // 2], "last": links[-1]}[where]


def edit_event(db: Session, seq: int, **values: str) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    db.execute(
        text(
            f"UPDATE audit_events SET {assignments} "
            "WHERE id = (SELECT event_id FROM audit_chain WHERE seq = :seq)"
        ),
        {**values, "seq": seq},
    )


def cut(db: Session, seq: int) -> None:
    """Delete link `seq` and its event."""
    event_id = db.exec(select(AuditLink.event_id).where(AuditLink.seq == seq)).one()
    db.execute(text("DELETE FROM audit_chain WHERE seq = :s"), {"s": seq})
    db.execute(text("DELETE FROM audit_events WHERE id = :e"), {"e": event_id})
    db.commit()


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"after":"approved","before":"review"}'),
        ("actor", "reviewer2"),
        ("action", "approve_pass"),
        ("entity_id", "QC000000000X"),
    ],
)
def test_edited_event_breaks_the_chain_at_that_event(
    app: Flask, db: Session, tamperable: list[int], where: str, column: str, value: str
) -> None:
    seq = pick(tamperable, where)
    edit_event(db, seq, **{column: value})
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at, report.problem) == (
        False,
        seq,
        "event content was altered",
    )


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_edited_link_breaks_the_chain_at_that_link(
    app: Flask, db: Session, tamperable: list[int], where: str
) -> None:
    seq = pick(tamperable, where)
    db.execute(
        text("UPDATE audit_chain SET prev_hash = :v WHERE seq = :s"), {"v": "a" * 64, "s": seq}
    )
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq)


def test_edit_with_a_recomputed_hash_breaks_the_chain_at_the_next_event(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    seq = pick(tamperable, "middle")
    link = db.get(AuditLink, seq)
    assert link is not None
    forged = event_of(db, seq).model_copy(update={"data": '{"forged":true}'})
    edit_event(db, seq, data=forged.data)
    db.execute(
        text("UPDATE audit_chain SET hash = :h WHERE seq = :s"),
        {"h": audit.link_hash(link.prev_hash, seq, forged), "s": seq},
    )
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)


@pytest.mark.parametrize("where", ["first", "middle"])
def test_deleted_event_breaks_the_chain_at_the_next_event(
    app: Flask, db: Session, tamperable: list[int], where: str
) -> None:
    seq = pick(tamperable, where)
    cut(db, seq)
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)


def test_an_event_deleted_from_under_its_link_is_missing(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    seq = pick(tamperable, "middle")
    # Foreign keys off too: a plain SQLite connection has them off, PostgreSQL's replica mode.
    plain = create_engine(engine_of(app).url)
    with plain.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "DELETE FROM audit_events"
                " WHERE id = (SELECT event_id FROM audit_chain WHERE seq = :s)"
            ),
            {"s": seq},
        )
    plain.dispose()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq)
    assert report.problem.endswith("is missing")


def test_deleted_newest_event_passes_the_chain_alone(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    """Why checkpoints exist: a cut tail leaves a shorter chain that is internally intact."""
    cut(db, tamperable[-1])
    assert chain(app).ok


def test_an_event_taken_out_of_the_queue_is_never_lost_silently(
    app: Flask, flow: Flow, db: Session
) -> None:
    flow.declare()
    audit.sequence(db)
    item = flow.declare()
    db.execute(text("DELETE FROM audit_queue"))
    db.commit()
    report = chain(app)
    lost = db.exec(select(AuditEvent.id).where(AuditEvent.entity_id == item.code)).one()
    assert (report.ok, report.problem) == (False, f"event {lost} is neither chained nor queued")


def run_cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", "audit", *args])


def test_the_sequence_command_chains_what_is_queued(app: Flask, flow: Flow, db: Session) -> None:
    flow.declare()
    queued = verify_chain(db).pending
    ran = run_cli(app, "sequence")
    assert ran.exit_code == 0 and ran.output == f"{queued} events chained\n"
    db.commit()  # end the read transaction that saw the queue
    assert verify_chain(db).events == queued


def test_a_checkpoint_chains_what_is_queued_first(
    app: Flask, flow: Flow, db: Session, tmp_path: Path
) -> None:
    flow.declare()
    exported = tmp_path / "checkpoints.jsonl"
    run_cli(app, "checkpoint", "--out", str(exported))
    signed = audit.Checkpoint.from_json(exported.read_text())
    db.commit()
    report = verify_chain(db)
    assert (signed.seq, signed.hash, report.pending) == (report.events, report.head, 0)


def test_deleted_newest_event_is_caught_by_a_signed_checkpoint(
    app: Flask, db: Session, tamperable: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoints.jsonl"
    made = run_cli(app, "checkpoint", "--out", str(exported))
    assert made.exit_code == 0, made.output
    intact = run_cli(app, "verify", "--checkpoints", str(exported))
    assert intact.exit_code == 0 and "1 signed checkpoints agree" in intact.output
    cut(db, tamperable[-1])
    cut_off = run_cli(app, "verify", "--checkpoints", str(exported))
    assert cut_off.exit_code == 1
    assert f"events {tamperable[-1]}–{tamperable[-1]} are missing" in cut_off.output


def test_a_rewritten_head_differs_from_its_checkpoint(
    app: Flask, db: Session, tamperable: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoints.jsonl"
    run_cli(app, "checkpoint", "--out", str(exported))
    seq = tamperable[-1]
    link = db.get(AuditLink, seq)
    assert link is not None
    # Replace the newest event by a forged one with a correctly recomputed hash.
    forged = event_of(db, seq).model_copy(update={"data": '{"after":"approved","before":"review"}'})
    edit_event(db, seq, data=forged.data)
    db.execute(
        text("UPDATE audit_chain SET hash = :h WHERE seq = :s"),
        {"h": audit.link_hash(link.prev_hash, seq, forged), "s": seq},
    )
    db.commit()
    assert chain(app).ok
    report = run_cli(app, "verify", "--checkpoints", str(exported))
    assert report.exit_code == 1 and "differs from the checkpoint" in report.output


def test_a_forged_checkpoint_is_refused(
    app: Flask, db: Session, tamperable: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoints.jsonl"
    run_cli(app, "checkpoint", "--out", str(exported))
    line = json.loads(exported.read_text())
    line["seq"] += 5  # claim a longer chain than was signed
    exported.write_text(json.dumps(line) + "\n")
    report = run_cli(app, "verify", "--checkpoints", str(exported))
    assert report.exit_code == 1 and "not genuine" in report.output


def _make_room(db: Session, seq: int) -> None:
    """Shift links from `seq` on up by one (in two steps, so no primary key collides)."""
    db.execute(text("UPDATE audit_chain SET seq = -seq - 1 WHERE seq >= :s"), {"s": seq})
    db.execute(text("UPDATE audit_chain SET seq = -seq WHERE seq < 0"))


def _insert(db: Session, seq: int, *, hash_of: Callable[[str, AuditEvent], str]) -> None:
    """A forged approval, copied from the event before it, linked in as link `seq`."""
    previous = db.get(AuditLink, seq - 1)
    assert previous is not None
    source = event_of(db, seq - 1)
    forged = AuditEvent(
        **source.model_dump(exclude={"id", "actor", "action", "data"}),
        actor="reviewer2",
        action="approve_pass",
        data='{"after":"approved","before":"review"}',
    )
    db.add(forged)
    db.flush()
    db.add(
        AuditLink(
            seq=seq,
            event_id=forged.id,
            prev_hash=previous.hash,
            hash=hash_of(previous.hash, forged),
        )
    )
    db.execute(text("DELETE FROM audit_queue"))
    db.commit()


@pytest.mark.parametrize("where", ["middle", "last"])
def test_inserted_event_with_a_valid_hash_breaks_the_chain_after_it(
    app: Flask, db: Session, tamperable: list[int], where: str
) -> None:
    seq = pick(tamperable, where)
    _make_room(db, seq)
    _insert(db, seq, hash_of=lambda prev, forged: audit.link_hash(prev, seq, forged))
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)
    assert report.events == seq  # everything up to and including the forgery links up


def test_inserted_event_with_a_made_up_hash_breaks_the_chain_at_it(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    seq = pick(tamperable, "middle")
    _make_room(db, seq)
    _insert(db, seq, hash_of=lambda prev, forged: "f" * 64)
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq)


# -- the append-only triggers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET data = '{}' WHERE id = 2",
        "UPDATE audit_events SET id = id + 1000",
        "DELETE FROM audit_events WHERE id = 2",
        "DELETE FROM audit_events",
        "UPDATE audit_chain SET hash = prev_hash WHERE seq = 2",
        "UPDATE audit_chain SET seq = seq + 1000",
        "DELETE FROM audit_chain WHERE seq = 2",
        "DELETE FROM audit_chain",
    ],
)
def test_triggers_refuse_changes_to_the_log(
    app: Flask, flow: Flow, db: Session, statement: str
) -> None:
    run_hold_path(flow)
    audit.sequence(db)
    before = seqs(db)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    assert seqs(db) == before
    assert chain(app).ok
