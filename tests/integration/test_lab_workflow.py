"""The lab's workflow on the real services: families, scope, accreditation, four eyes, retests."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from qc_app.audit import AuditEvent
from qc_app.auth.models import User
from qc_app.auth.services import create_user
from qc_app.certificates.lookup import certificate_pdf
from qc_app.certificates.pdf import read_embedded_payload
from qc_app.db import write
from qc_app.errors import Forbidden, ValidationFailed
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.inspection.services import (
    approve,
    history,
    record_inspection,
    save_testing_body,
    send_back,
)
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.rules.engine import CURRENT_VERSION
from qc_app.sqltypes import utcnow
from tests.conftest import PASSWORD, Flow, World, stored_files

B_JADE = {"mass_g": "12.41", "species": "jadeite", "ri": "1.66", "sg": "3.10", "ir_polymer": True}
A_JADE = {"mass_g": "12.41", "species": "jadeite", "ri": "1.66", "sg": "3.33", "ir_polymer": False}


def jade_item(flow: Flow) -> Item:
    item = flow.declare(material="JADEITE", mass_g="12.40")
    return flow.receive(item, mass_g="12.41")


def measure(
    flow: Flow, item: Item, raw: dict[str, object], analyst: str = "analyst1"
) -> Inspection:
    return record_inspection(
        session=flow.db, actor=flow.world[analyst], code=item.code, raw=raw, now=utcnow()
    )


def other_lab(
    db: Session, world: World, body_id: int | None = None, **overrides: object
) -> TestingBody:
    fields = {
        "code": "NDC",
        "name_zh": "钻石站",
        "name_en": "Diamond station",
        "cma_no": "CMA-NDC",
        "cert_prefix": "NDC",
        "accredited_until": "2099-12-31",
        "scope": ["diamond", "precious_metal"],
    } | overrides
    return save_testing_body(
        session=db, actor=world["admin1"], fields=fields, now=utcnow(), body_id=body_id
    )


def staff(db: Session, username: str, role: str, body: TestingBody) -> User:
    return create_user(
        session=db,
        actor=None,
        username=username,
        password=PASSWORD,
        role=role,
        display_name=username,
        testing_body_id=body.id,
        now=utcnow(),
    )


def test_treated_jadeite_is_named_and_fails_with_its_reasons(flow: Flow) -> None:
    found = measure(flow, jade_item(flow), B_JADE)
    assert (found.material_name_zh, found.verdict) == ("翡翠（处理）", "fail")
    reasons = {r["code"]: r["decisive"] for r in found.reasons}
    assert reasons["treated_not_declared"] is True
    assert reasons["treatment_found"] is False
    assert found.rule_version == CURRENT_VERSION


def test_a_failed_item_goes_back_to_the_merchant_with_the_reasons(flow: Flow) -> None:
    item = jade_item(flow)
    flow.approve(measure(flow, item, B_JADE))
    flow.db.refresh(item)
    assert item.state == ItemState.RETURN_TO_MERCHANT
    event = flow.db.exec(select(AuditEvent).where(AuditEvent.action == "approve_fail")).one()
    assert "treated_not_declared" in event.data


def test_sent_back_result_is_kept_and_the_retest_is_a_new_inspection(flow: Flow) -> None:
    item = jade_item(flow)
    first = measure(flow, item, B_JADE)
    send_back(
        session=flow.db,
        actor=flow.world["reviewer1"],
        inspection_id=first.id or 0,
        note="SG 偏低，请复测",
        now=utcnow(),
    )
    second = measure(flow, item, A_JADE)
    flow.approve(second)
    entries = history(session=flow.db, item=item)
    assert [(e.inspection.state, e.inspection.verdict) for e in entries] == [
        ("sent_back", "fail"),
        ("approved", "pass"),
    ]
    assert entries[0].inspection.review_note == "SG 偏低，请复测"
    assert entries[0].reviewer == "Reviewer1"
    flow.db.refresh(item)
    assert item.state == ItemState.APPROVED


def test_an_analyst_outside_the_body_scope_is_refused(flow: Flow, db: Session) -> None:
    body = other_lab(db, flow.world)
    flow.world.users["ndc_analyst"] = staff(db, "ndc_analyst", "analyst", body)
    item = jade_item(flow)
    with pytest.raises(Forbidden) as refused:
        measure(flow, item, A_JADE, analyst="ndc_analyst")
    assert refused.value.code == "outside_scope"
    db.rollback()
    assert db.exec(select(Inspection)).all() == []
    db.refresh(item)
    assert item.state == ItemState.RECEIVED


def test_a_lapsed_body_cannot_sign_off(flow: Flow, db: Session) -> None:
    item = jade_item(flow)
    found = measure(flow, item, A_JADE)
    with write(db):
        flow.world.lab.accredited_until = utcnow().date() - timedelta(days=1)
        db.add(flow.world.lab)
    with pytest.raises(Forbidden) as refused:
        flow.approve(found)
    assert refused.value.code == "accreditation_lapsed"
    db.rollback()
    db.refresh(item)
    assert item.state == ItemState.REVIEW


def test_a_body_not_yet_accredited_cannot_record(flow: Flow, db: Session) -> None:
    with write(db):
        flow.world.lab.accredited_from = utcnow().date() + timedelta(days=1)
        db.add(flow.world.lab)
    with pytest.raises(Forbidden) as refused:
        measure(flow, jade_item(flow), A_JADE)
    assert refused.value.code == "accreditation_lapsed"


def test_a_reviewer_of_another_lab_cannot_approve(flow: Flow, db: Session) -> None:
    body = other_lab(db, flow.world, scope=["jade"])
    flow.world.users["ndc_reviewer"] = staff(db, "ndc_reviewer", "reviewer", body)
    found = measure(flow, jade_item(flow), A_JADE)
    with pytest.raises(Forbidden) as refused:
        flow.approve(found, reviewer="ndc_reviewer")
    assert refused.value.code == "other_testing_body"


def test_the_analyst_cannot_approve_their_own_result(flow: Flow, db: Session) -> None:
    # reviewer1 measures (reviewers may), then tries to approve it.
    found = measure(flow, jade_item(flow), A_JADE, analyst="reviewer1")
    with pytest.raises(Forbidden) as refused:
        flow.approve(found, reviewer="reviewer1")
    assert refused.value.code == "separation_of_duties"
    assert approve(
        session=db, actor=flow.world["reviewer2"], inspection_id=found.id or 0, now=utcnow()
    )


def test_out_of_range_readings_are_refused_and_nothing_changes(flow: Flow, db: Session) -> None:
    item = jade_item(flow)
    with pytest.raises(ValidationFailed) as refused:
        measure(flow, item, A_JADE | {"ri": "7.2"})
    assert "1.300–2.800" in refused.value.message.render("zh")
    db.rollback()
    db.refresh(item)
    assert item.state == ItemState.RECEIVED
    assert db.exec(select(Inspection)).all() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cma_no": ""}, "CMA number"),
        ({"scope": []}, "scope"),
        ({"scope": ["jade", "moon_rock"]}, "scope"),
        ({"accredited_from": "2030-01-01", "accredited_until": "2029-01-01"}, "accredited_from"),
        ({"accredited_until": "31/12/2099"}, "Accredited until"),
        ({"cert_prefix": "ndc-1"}, "cert_prefix"),
    ],
)
def test_a_testing_body_needs_valid_accreditation_data(
    db: Session, world: World, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        other_lab(db, world, **fields)
    assert message in refused.value.message.render("en")
    db.rollback()
    assert db.exec(select(TestingBody).where(TestingBody.code == "NDC")).first() is None


def test_saving_a_testing_body_is_audited_with_before_and_after(db: Session, world: World) -> None:
    body = other_lab(db, world)
    other_lab(db, world, body_id=body.id, cnas_no="CNAS L9999")
    saved = db.get(TestingBody, body.id)
    assert saved is not None and saved.cnas_no == "CNAS L9999"
    assert saved.scope == ["diamond", "precious_metal"]
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "testing_body_saved")).all()
    assert len(events) == 2
    assert '"cnas_no":null' in events[1].data.replace(" ", "")


def test_only_admins_manage_testing_bodies(db: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        save_testing_body(session=db, actor=world["reviewer1"], fields={"code": "X"}, now=utcnow())


@pytest.mark.usefixtures("cjk_font_path")
def test_a_passing_jadeite_is_certified_with_its_readings(flow: Flow, db: Session) -> None:
    item = jade_item(flow)
    flow.approve(measure(flow, item, A_JADE | {"optic": "aggregate", "variety": "冰种"}))
    issued = flow.certify(item)
    pdf = certificate_pdf(
        session=db,
        actor=flow.world["admin1"],
        number=issued.certificate.number,
        files=stored_files(flow.app),
    )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "翡翠" in text and "（处理）" not in text
    assert "1.660" in text and "3.33" in text
    # Readings the certificate vocabulary lacks are named by the rule set, not printed raw.
    assert "偏光镜" in text and "集合体" in text and "鉴定品种" in text
    assert "false" not in text and "true" not in text
    payload = json.loads(read_embedded_payload(pdf).payload_json)
    assert payload["rule_version"] == CURRENT_VERSION
