"""The warehouse floor through the real services: intake discrepancies, one-time tokens,
order-driven items, the packing station's mass check and alarms, and the CSV order import."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import Session, func, select

from qc_app.audit import AuditEvent
from qc_app.db import engine_of, new_session
from qc_app.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from qc_app.intake import services as intake
from qc_app.intake.models import Consignment
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items import services as items
from qc_app.items.models import Item
from qc_app.orders import services as orders
from qc_app.orders.models import Order, OrderState
from qc_app.sqltypes import utcnow
from qc_app.warehouse.models import Alarm, OnceToken
from tests.conftest import NO_PHOTO, Flow, World, jpeg_bytes, proof_set, stored_files


def events(db: Session, code: str, action: str) -> int:
    db.rollback()
    query = select(func.count()).where(AuditEvent.entity_id == code, AuditEvent.action == action)
    return int(db.exec(query).one())


def scan_receive(flow: Flow, item: Item, mass_g: str = "5.03", **kw: Any) -> intake.ScanResult:
    """Intake without photos (the reason recorded) unless the test sends some."""
    if "photo" not in kw and "views" not in kw:
        kw.update(NO_PHOTO)
    return intake.receive_scan(
        session=flow.db,
        actor=flow.world["inspector1"],
        code=item.code,
        mass_g=mass_g,
        photo=kw.pop("photo", None),
        files=stored_files(flow.app),
        now=utcnow(),
        station="intake@t1",
        **kw,
    )


def order(flow: Flow, order_no: str = "DY-1", waybill: str = "SF1", **kw: Any) -> Order:
    return orders.create_order(
        session=flow.db,
        actor=flow.world["admin1"],
        order_no=order_no,
        listing_id=flow.world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no=waybill,
        now=utcnow(),
        **kw,
    )


def pack(flow: Flow, item: Item, issued: Any, mass_g: str = "5.03", **kw: Any) -> Order:
    return orders.pack(
        session=flow.db,
        actor=flow.world["inspector1"],
        waybill_no=kw.pop("waybill", "SF1"),
        item_code=item.code,
        certificate_scan=issued.verify_url,
        seal_no="SEAL-1",
        mass_g=mass_g,
        now=utcnow(),
        station="packing@t2",
        **kw,
    )


# -- intake -----------------------------------------------------------------------------------


def test_receive_within_tolerance_is_received(flow: Flow) -> None:
    item = flow.declare(mass_g="5.02")
    views = proof_set()
    result = scan_receive(flow, item, "5.01", photo=views.pop("front"), views=views)
    assert (result.outcome, result.level) == ("received", "ok")
    assert items.get_item(session=flow.db, actor=flow.world["admin1"], code=item.code).state == (
        "received"
    )


@pytest.mark.parametrize(
    ("mass_g", "damage", "reason"),
    [("4.90", "", "质量不符"), ("5.02", "戒圈变形", "破损：戒圈变形")],
)
def test_discrepancy_puts_the_received_item_on_hold_with_the_reason(
    flow: Flow, mass_g: str, damage: str, reason: str
) -> None:
    item = flow.declare(mass_g="5.02")
    result = scan_receive(flow, item, mass_g, damage=damage)
    assert (result.outcome, result.level) == ("held", "error")
    found = items.get_item(session=flow.db, actor=flow.world["admin1"], code=item.code)
    assert found.state == "on_hold" and found.held_from == "received"
    assert reason in (found.hold_reason or "")
    assert events(flow.db, item.code, "hold") == 1


def test_heavier_than_declared_is_recorded_not_held(flow: Flow) -> None:
    item = flow.declare(mass_g="5.02")
    assert scan_receive(flow, item, "6.50").outcome == "received"


def test_a_repeated_scan_answers_already_received_and_records_nothing(flow: Flow) -> None:
    item = flow.declare()
    scan_receive(flow, item)
    again = scan_receive(flow, item, "9.99")
    assert (again.outcome, again.level) == ("already_received", "warn")
    assert events(flow.db, item.code, "receive") == 1
    found = items.get_item(session=flow.db, actor=flow.world["admin1"], code=item.code)
    assert found.received_mass_cg == 503


def test_the_api_path_still_refuses_a_repeat_without_a_key(flow: Flow) -> None:
    item = flow.declare()
    flow.receive(item)
    with pytest.raises(IllegalTransition):
        flow.receive(item)


def test_same_once_token_replays_the_first_outcome(flow: Flow) -> None:
    item = flow.declare(mass_g="5.02")
    first = scan_receive(flow, item, "4.00", once_key="tok-1")
    second = scan_receive(flow, item, "4.00", once_key="tok-1")
    assert first.outcome == "held" and second.outcome == "held" and second.replay
    assert events(flow.db, item.code, "receive") == 1
    assert flow.db.exec(select(func.count()).select_from(OnceToken)).one() == 1


@pytest.mark.parametrize(
    "changed", [{"mass_g": "5.02"}, {"damage": "戒圈变形"}, {"photo": jpeg_bytes()}], ids=str
)
def test_a_once_token_with_another_request_is_refused(flow: Flow, changed: dict[str, Any]) -> None:
    item = flow.declare(mass_g="5.02")
    scan_receive(flow, item, "4.00", once_key="tok-1")
    with pytest.raises(ValidationFailed, match="different request"):
        scan_receive(flow, item, **{"mass_g": "4.00", **changed}, once_key="tok-1")
    assert events(flow.db, item.code, "receive") == 1


def test_a_key_is_bound_to_one_kind_of_call(flow: Flow) -> None:
    item = flow.declare()
    scan_receive(flow, item, once_key="tok-2")
    with pytest.raises(ValidationFailed, match="another call"):
        intake.scan_at_consignment(
            session=flow.db,
            actor=flow.world["inspector1"],
            consignment_code=flow.db.get_one(Consignment, item.consignment_id).code,
            code=item.code,
            station="",
            now=utcnow(),
            once_key="tok-2",
        )


def test_concurrent_double_submit_creates_one_record(app: Any, flow: Flow, world: World) -> None:
    item = flow.declare()
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        session = new_session(engine_of(app))
        try:
            barrier.wait()
            result = intake.receive_scan(
                session=session,
                actor=world["inspector1"],
                code=item.code,
                mass_g="5.03",
                photo=None,
                **NO_PHOTO,
                files=stored_files(app),
                now=utcnow(),
                once_key="same-form",
            )
            results.append(result.outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(results) == ["received", "received"]
    assert events(flow.db, item.code, "receive") == 1


# -- consignment scanning ---------------------------------------------------------------------


def two_item_consignment(flow: Flow) -> tuple[str, list[Item]]:
    consignment = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": flow.world.listing_gold.id, "mass_g": "5.02"}] * 2,
        now=utcnow(),
    )
    return consignment.code, consignment_items(session=flow.db, consignment=consignment)


def scan_in(flow: Flow, consignment: str, code: str, key: str | None = None) -> Any:
    return intake.scan_at_consignment(
        session=flow.db,
        actor=flow.world["inspector1"],
        consignment_code=consignment,
        code=code,
        station="intake@t1",
        now=utcnow(),
        once_key=key,
    )


def test_expected_item_goes_on_to_weighing(flow: Flow) -> None:
    code, items = two_item_consignment(flow)
    assert scan_in(flow, code, items[0].code.lower()).outcome == "go"


def test_item_of_another_consignment_is_held_as_extra_once(flow: Flow) -> None:
    code, _ = two_item_consignment(flow)
    stranger = flow.declare()
    result = scan_in(flow, code, stranger.code, key="k1")
    assert (result.outcome, result.level) == ("extra_held", "error")
    assert scan_in(flow, code, stranger.code, key="k1").replay
    assert scan_in(flow, code, stranger.code).outcome == "not_waiting"
    assert events(flow.db, stranger.code, "hold") == 1
    found = items.get_item(session=flow.db, actor=flow.world["admin1"], code=stranger.code)
    assert "多余物品" in (found.hold_reason or "") and found.held_from == "declared"


def test_unknown_label_is_refused_without_a_record(flow: Flow) -> None:
    code, _ = two_item_consignment(flow)
    assert scan_in(flow, code, "QCNOTREAL1").level == "error"


def test_closing_holds_the_missing_items(flow: Flow) -> None:
    code, items = two_item_consignment(flow)
    scan_receive(flow, items[0])
    missing = intake.close_consignment(
        session=flow.db, actor=flow.world["inspector1"], code=code, station="", now=utcnow()
    )
    assert [i.code for i in missing] == [items[1].code]
    progress = intake.consignment_progress(
        consignment_items(
            session=flow.db,
            consignment=intake.get_consignment(
                session=flow.db, actor=flow.world["admin1"], code=code
            ),
        )
    )
    assert (progress.expected, progress.received, len(progress.held)) == (2, 1, 1)


# -- orders: both ways in ---------------------------------------------------------------------


def test_order_driven_item_that_fails_cancels_its_order_in_the_same_transaction(
    flow: Flow,
) -> None:
    order(flow, "DY-ORD", "SFORD")
    consignment = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": flow.world.listing_gold.id, "mass_g": "5.02", "order_no": "DY-ORD"}],
        now=utcnow(),
    )
    (item,) = consignment_items(session=flow.db, consignment=consignment)
    assert item.order_id is not None
    flow.receive(item)
    flow.approve(flow.inspect(item, fineness="750"))
    flow.db.rollback()
    found = orders.get_order(session=flow.db, actor=flow.world["admin1"], order_no="DY-ORD")
    assert found.state == OrderState.CANCELLED
    assert "检测不合格" in (found.cancel_reason or "")
    cancelled = flow.db.exec(select(AuditEvent).where(AuditEvent.action == "order_cancelled")).one()
    approved = flow.db.exec(select(AuditEvent).where(AuditEvent.action == "approve_fail")).one()
    assert cancelled.id == approved.id + 1 and cancelled.at == approved.at
    assert cancelled.details()["notify"] == "consumer"


def test_a_second_item_for_the_same_order_is_refused(flow: Flow) -> None:
    order(flow, "DY-X", "SFX")
    spec = {"listing_id": flow.world.listing_gold.id, "mass_g": "5.02", "order_no": "DY-X"}
    create_consignment(session=flow.db, actor=flow.world["merchant1"], items=[spec], now=utcnow())
    with pytest.raises(ValidationFailed):
        create_consignment(
            session=flow.db, actor=flow.world["merchant1"], items=[spec], now=utcnow()
        )


def test_stock_item_bound_at_order_time_must_be_the_one_packed(
    flow: Flow, cjk_font_path: Any
) -> None:
    bound, _ = flow.certified()
    other, other_cert = flow.certified()
    order(flow, item_code=bound.code)
    with pytest.raises(Conflict) as refused:
        pack(flow, other, other_cert)
    assert "订单已绑定其他物品" in refused.value.message.render("zh")


# -- packing: mass drift ----------------------------------------------------------------------


def test_packing_records_mass_seal_and_photo(flow: Flow, cjk_font_path: Any) -> None:
    item, issued = flow.certified()
    order(flow)
    packed = pack(flow, item, issued, photo=jpeg_bytes(), files=stored_files(flow.app))
    assert (packed.state, packed.seal_no, packed.packed_mass_cg) == ("packed", "SEAL-1", 503)
    kinds = [(p.kind, p.view) for p in items.item_photos(session=flow.db, item=item)]
    assert kinds == [
        ("intake", "front"),
        ("intake", "back"),
        ("intake", "stamp"),
        ("packing", None),
    ]


def test_mass_drift_raises_an_alarm_holds_the_item_and_refuses_to_pack(
    flow: Flow, cjk_font_path: Any
) -> None:
    item, issued = flow.certified()
    order(flow)
    with pytest.raises(Conflict) as refused:
        pack(flow, item, issued, mass_g="4.61")
    assert refused.value.code == "mass_drift" and "4.61" in refused.value.message.render("zh")
    flow.db.rollback()
    found = items.get_item(session=flow.db, actor=flow.world["admin1"], code=item.code)
    assert found.state == "on_hold" and found.held_from == "certified"
    (alarm,) = flow.db.exec(select(Alarm)).all()
    assert alarm.kind == "mass_drift" and alarm.cleared_at is None
    assert events(flow.db, item.code, "alarm_raised") == 1
    assert orders.order_by_waybill(flow.db, "SF1").state == "open"

    # The inspector cannot release it; packing stays refused while it is held.
    with pytest.raises(Forbidden):
        items.release_item(
            session=flow.db, actor=flow.world["inspector1"], code=item.code, now=utcnow()
        )
    with pytest.raises(IllegalTransition):
        pack(flow, item, issued)
    with pytest.raises(Conflict) as around:
        items.release_item(
            session=flow.db, actor=flow.world["admin1"], code=item.code, now=utcnow()
        )
    assert around.value.code == "alarm_open"

    # A supervisor re-weighs, compares the photos, and clears: the item is packable again.
    with pytest.raises(ValidationFailed):
        items.clear_alarm(
            session=flow.db, actor=flow.world["admin1"], alarm_id=alarm.id, note=" ", now=utcnow()
        )
    items.clear_alarm(
        session=flow.db,
        actor=flow.world["admin1"],
        alarm_id=alarm.id,
        note="复称 5.03 g，照片一致，打包秤误读",
        now=utcnow(),
    )
    assert pack(flow, item, issued).state == "packed"


def test_only_an_admin_clears_an_alarm(flow: Flow, cjk_font_path: Any) -> None:
    item, issued = flow.certified()
    order(flow)
    with pytest.raises(Conflict):
        pack(flow, item, issued, mass_g="5.50")
    flow.db.rollback()
    alarm = flow.db.exec(select(Alarm)).one()
    with pytest.raises(Forbidden):
        items.clear_alarm(
            session=flow.db,
            actor=flow.world["inspector1"],
            alarm_id=alarm.id,
            note="ok",
            now=utcnow(),
        )


def test_packing_once_token_replays(flow: Flow, cjk_font_path: Any) -> None:
    item, issued = flow.certified()
    order(flow)
    first = pack(flow, item, issued, once_key="pk-1")
    second = pack(flow, item, issued, once_key="pk-1")
    assert first.order_no == second.order_no and second.state == "packed"
    assert events(flow.db, item.code, "pack") == 1
    with pytest.raises(ValidationFailed, match="different request"):
        pack(flow, item, issued, mass_g="5.04", once_key="pk-1")


# -- CSV import -------------------------------------------------------------------------------


def test_csv_import_creates_every_row(flow: Flow) -> None:
    listing = flow.world.listing_gold.id
    data = (
        "\ufefforder_no,listing_id,price_paid_fen,waybill_no\n"
        f"C-1,{listing},328000,SFC1\nC-2,{listing},328000,SFC2\n"
    ).encode()
    report = orders.import_orders_csv(
        session=flow.db, actor=flow.world["admin1"], data=data, now=utcnow()
    )
    assert (report.created, report.errors) == (["C-1", "C-2"], [])
    assert len(orders.recent_orders(session=flow.db)) == 2


def test_csv_import_reports_each_bad_row_and_saves_nothing(flow: Flow) -> None:
    listing = flow.world.listing_gold.id
    data = (
        "order_no,listing_id,price_paid_fen,waybill_no\n"
        f"C-1,{listing},328000,SFC1\n"
        f"C-2,abc,328000,SFC2\n"
        f"C-3,{listing},-5,SFC3\n"
        f"C-1,{listing},328000,SFC4\n"
        f"C-5,99999,328000,SFC5\n"
    ).encode()
    report = orders.import_orders_csv(
        session=flow.db, actor=flow.world["admin1"], data=data, now=utcnow()
    )
    assert report.created == []
    assert [e.row for e in report.errors] == [3, 4, 5, 6]
    assert "已存在" in report.errors[2].message.render("zh")
    flow.db.rollback()
    assert orders.recent_orders(session=flow.db) == []


@pytest.mark.parametrize(
    "data",
    [
        b"order_no,waybill_no\nX,Y\n",
        b"\xff\xfe\x00garbage",
        b"a" * (1024 * 1024 + 1),
        b"order_no,listing_id,price_paid_fen,waybill_no\nDY\x00,1,100,SF9\n",  # 500 on PostgreSQL
    ],
)
def test_csv_import_refuses_a_file_it_cannot_read(flow: Flow, data: bytes) -> None:
    with pytest.raises(ValidationFailed):
        orders.import_orders_csv(
            session=flow.db, actor=flow.world["admin1"], data=data, now=utcnow()
        )


def test_only_admins_import_orders(flow: Flow) -> None:
    with pytest.raises(Forbidden):
        orders.import_orders_csv(
            session=flow.db, actor=flow.world["inspector1"], data=b"", now=utcnow()
        )
