"""The hash-chained audit log: one event per transition, an intact chain on a real run, and
every kind of tampering found at the right place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from qc_app import audit
from qc_app.audit import AuditEvent, ChainReport, verify_chain
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
    with new_session(engine_of(app)) as fresh:
        return verify_chain(fresh)


def seqs(db: Session) -> list[int]:
    return list(db.exec(select(AuditEvent.seq).order_by(AuditEvent.seq)))


def test_chain_is_intact_after_a_real_run(
    app: Flask, flow: Flow, db: Session, cjk_font_path: Any
) -> None:
    flow.certified()
    run_fail_path(flow)
    report = chain(app)
    total = db.exec(select(func.count()).select_from(AuditEvent)).one()
    assert (report.ok, report.broken_at, report.events) == (True, None, total)
    assert report.head == db.exec(select(AuditEvent.hash).order_by(AuditEvent.seq.desc())).first()  # type: ignore[union-attr]


def allow_tampering(db: Session) -> None:
    """What an attacker with database access does first: switch off the append-only triggers."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("DROP TRIGGER audit_events_no_delete"))
    db.commit()
    db.expire_all()


@pytest.fixture
def tamperable(app: Flask, flow: Flow, db: Session) -> list[int]:
    """A real run with the triggers off; returns the event sequence numbers."""
    run_fail_path(flow)
    assert chain(app).ok
    allow_tampering(db)
    return seqs(db)


def pick(events: list[int], where: str) -> int:
    return {"first": events[0], "middle": events[len(events) // 2], "last": events[-1]}[where]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"after":"approved","before":"review"}'),
        ("actor", "reviewer2"),
        ("action", "approve_pass"),
        ("entity_id", "QC000000000X"),
        ("prev_hash", "a" * 64),
    ],
)
def test_edited_event_breaks_the_chain_at_that_event(
    app: Flask, db: Session, tamperable: list[int], where: str, column: str, value: str
) -> None:
    seq = pick(tamperable, where)
    db.execute(
        text(f"UPDATE audit_events SET {column} = :v WHERE seq = :s"), {"v": value, "s": seq}
    )
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq)


def test_edit_with_a_recomputed_hash_breaks_the_chain_at_the_next_event(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    seq = pick(tamperable, "middle")
    event = db.get(AuditEvent, seq)
    forged = '{"forged":true}'
    forged_hash = audit._entry_hash(
        event.prev_hash,
        seq,
        event.at,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        forged,
    )
    db.execute(
        text("UPDATE audit_events SET data = :d, hash = :h WHERE seq = :s"),
        {"d": forged, "h": forged_hash, "s": seq},
    )
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)


@pytest.mark.parametrize("where", ["first", "middle"])
def test_deleted_event_breaks_the_chain_at_the_next_event(
    app: Flask, db: Session, tamperable: list[int], where: str
) -> None:
    seq = pick(tamperable, where)
    db.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seq})
    db.commit()
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)


def test_deleted_newest_event_passes_the_chain_alone(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    """Why checkpoints exist: a cut tail leaves a shorter chain that is internally intact."""
    db.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": tamperable[-1]})
    db.commit()
    assert chain(app).ok


def run_cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", "audit", *args])


def test_deleted_newest_event_is_caught_by_a_signed_checkpoint(
    app: Flask, db: Session, tamperable: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoints.jsonl"
    made = run_cli(app, "checkpoint", "--out", str(exported))
    assert made.exit_code == 0, made.output
    intact = run_cli(app, "verify", "--checkpoints", str(exported))
    assert intact.exit_code == 0 and "1 signed checkpoints agree" in intact.output
    db.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": tamperable[-1]})
    db.commit()
    cut = run_cli(app, "verify", "--checkpoints", str(exported))
    assert cut.exit_code == 1
    assert f"events {tamperable[-1]}–{tamperable[-1]} are missing" in cut.output


def test_a_rewritten_head_differs_from_its_checkpoint(
    app: Flask, db: Session, tamperable: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoints.jsonl"
    run_cli(app, "checkpoint", "--out", str(exported))
    last = db.get(AuditEvent, tamperable[-1])
    assert last is not None
    # Replace the newest event by a forged one with a correctly recomputed hash.
    data = '{"after":"approved","before":"review"}'
    forged = audit._entry_hash(
        last.prev_hash,
        last.seq,
        last.at,
        last.actor,
        last.action,
        last.entity,
        last.entity_id,
        data,
    )
    db.execute(
        text("UPDATE audit_events SET data = :d, hash = :h WHERE seq = :s"),
        {"d": data, "h": forged, "s": last.seq},
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
    """Shift events from `seq` on up by one (in two steps, so no primary key collides)."""
    db.execute(text("UPDATE audit_events SET seq = -seq - 1 WHERE seq >= :s"), {"s": seq})
    db.execute(text("UPDATE audit_events SET seq = -seq WHERE seq < 0"))


def _insert(db: Session, seq: int, *, hash_of: Callable[[AuditEvent, str], str]) -> None:
    previous = db.get(AuditEvent, seq - 1)
    data = '{"after":"approved","before":"review"}'
    db.execute(
        text(
            "INSERT INTO audit_events (seq, at, actor_id, actor, action, entity, entity_id, data, "
            "prev_hash, hash) SELECT :seq, at, actor_id, 'reviewer2', 'approve_pass', entity, "
            "entity_id, :data, :prev, :hash FROM audit_events WHERE seq = :source"
        ),
        {
            "seq": seq,
            "data": data,
            "prev": previous.hash,
            "hash": hash_of(previous, data),
            "source": seq - 1,
        },
    )
    db.commit()


def _honest_hash(seq: int) -> Callable[[AuditEvent, str], str]:
    def compute(previous: AuditEvent, data: str) -> str:
        return audit._entry_hash(
            previous.hash,
            seq,
            previous.at,
            "reviewer2",
            "approve_pass",
            previous.entity,
            previous.entity_id,
            data,
        )

    return compute


@pytest.mark.parametrize("where", ["middle", "last"])
def test_inserted_event_with_a_valid_hash_breaks_the_chain_after_it(
    app: Flask, db: Session, tamperable: list[int], where: str
) -> None:
    seq = pick(tamperable, where)
    _make_room(db, seq)
    _insert(db, seq, hash_of=_honest_hash(seq))
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq + 1)
    assert report.events == seq  # everything up to and including the forgery links up


def test_inserted_event_with_a_made_up_hash_breaks_the_chain_at_it(
    app: Flask, db: Session, tamperable: list[int]
) -> None:
    seq = pick(tamperable, "middle")
    _make_room(db, seq)
    _insert(db, seq, hash_of=lambda previous, data: "f" * 64)
    report = chain(app)
    assert (report.ok, report.broken_at) == (False, seq)


# -- the append-only triggers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET data = '{}' WHERE seq = 2",
        "UPDATE audit_events SET seq = seq + 1000",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
    ],
)
def test_triggers_refuse_changes_to_the_log(
    app: Flask, flow: Flow, db: Session, statement: str
) -> None:
    run_hold_path(flow)
    before = seqs(db)
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    assert seqs(db) == before
    assert chain(app).ok
