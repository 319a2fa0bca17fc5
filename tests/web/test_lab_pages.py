"""The analyst's and the admin's lab pages, driven through the test client as a person would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session, select

from qc_app.inspection.models import SEAL_NAME_MAX_CHARS, Inspection, TestingBody
from qc_app.inspection.services import record_inspection
from qc_app.sqltypes import utcnow
from tests.conftest import Flow, World
from tests.web.helpers import login, post_form, record_by_web


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def received_jade(flow: Flow) -> str:
    item = flow.declare(material="JADEITE", mass_g="12.40")
    flow.receive(item, mass_g="12.41")
    return item.code


def test_the_form_offers_the_families_fields(app: Any, flow: Flow) -> None:
    page = signed_in(app, "analyst1").get(f"/lab/{received_jade(flow)}").get_data(as_text=True)
    for key in ("mass_g", "species", "ri", "sg", "optic", "ir_polymer", "dye", "variety"):
        assert f'name="{key}"' in page
    assert 'name="fineness_permille"' not in page
    assert 'type="checkbox" id="ir_polymer"' in page
    assert ">翡翠</option>" in page


def test_a_refused_reading_keeps_what_the_analyst_typed(app: Any, flow: Flow, db: Session) -> None:
    code = received_jade(flow)
    client = signed_in(app, "analyst1")
    form = {"mass_g": "12.41", "ri": "7.2", "sg": "3.33", "ir_polymer": "true", "variety": "冰种"}
    response = post_form(client, f"/lab/{code}", f"/lab/{code}", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "折射率超出范围 1.300–2.800" in page
    assert 'value="7.2"' in page and 'value="冰种"' in page
    assert re.search(r'id="ir_polymer"[^>]*checked', page)
    db.rollback()
    assert db.exec(select(Inspection)).all() == []


def test_ticked_screening_boxes_become_booleans(app: Any, flow: Flow, db: Session) -> None:
    code = received_jade(flow)
    client = signed_in(app, "analyst1")
    form = {
        "mass_g": "12.41",
        "species": "jadeite",
        "ri": "1.66",
        "sg": "3.10",
        "ir_polymer": "true",
    }
    response = record_by_web(client, code, form)
    assert response.status_code == 302
    db.rollback()
    found = db.exec(select(Inspection)).one()
    measured = found.measurements
    assert measured["ir_polymer"] is True and measured["dye"] is False
    assert found.material_name_zh == "翡翠（处理）"


def test_the_review_page_shows_labelled_readings_and_the_history(
    app: Any, flow: Flow, db: Session
) -> None:
    code = received_jade(flow)
    analyst = signed_in(app, "analyst1")
    first = {
        "mass_g": "12.41",
        "species": "jadeite",
        "ri": "1.66",
        "sg": "3.10",
        "ir_polymer": "true",
    }
    record_by_web(analyst, code, first)
    db.rollback()
    sent = db.exec(select(Inspection)).one()
    reviewer = signed_in(app, "reviewer1")
    review = reviewer.get(f"/review/{sent.id}").get_data(as_text=True)
    assert "红外：聚合物充填" in review and "翡翠（处理）" in review
    post_form(
        reviewer, f"/review/{sent.id}", f"/review/{sent.id}/send-back", {"note": "请复测相对密度"}
    )
    second = first | {"sg": "3.33", "ir_polymer": ""}
    record_by_web(analyst, code, second)
    db.rollback()
    retest = db.exec(select(Inspection).order_by(Inspection.id.desc())).first()
    assert retest is not None and retest.verdict == "pass"
    page = reviewer.get(f"/review/{retest.id}").get_data(as_text=True)
    assert "检测历史" in page and "请复测相对密度" in page and "退回复检 · Reviewer1" in page


def test_an_admin_creates_and_edits_a_testing_body(app: Any, world: World, db: Session) -> None:
    admin = signed_in(app, "admin1")
    form = {
        "code": "ndc",
        "name_zh": "钻石站",
        "name_en": "Diamond station",
        "cma_no": "CMA-NDC-1",
        "cert_prefix": "NDC",
        "accredited_until": "2030-06-30",
        "scope": ["diamond", "precious_metal"],
    }
    url = "/admin/testing-bodies/new"
    assert post_form(admin, url, url, form).status_code == 302
    db.rollback()
    body = db.exec(select(TestingBody).where(TestingBody.code == "NDC")).one()
    assert body.scope == ["diamond", "precious_metal"]
    listing = admin.get("/admin/testing-bodies").get_data(as_text=True)
    assert "CMA-NDC-1" in listing and "钻石" in listing
    edit = f"/admin/testing-bodies/{body.id}"
    refused = post_form(admin, edit, edit, form | {"cma_no": ""})
    assert refused.status_code == 422 and 'value="Diamond station"' in refused.get_data(
        as_text=True
    )
    assert post_form(admin, edit, edit, form | {"scope": ["jade"]}).status_code == 302
    db.rollback()
    db.refresh(body)
    assert body.scope == ["jade"] and body.cma_no == "CMA-NDC-1"


def test_a_testing_body_name_too_long_for_the_seal_is_refused_at_its_field(
    app: Any, world: World, db: Session
) -> None:
    admin = signed_in(app, "admin1")
    edit = f"/admin/testing-bodies/{world.lab.id}"
    longest = "国家黄金钻石制品质量检验检测中心（深圳）珠宝贵金属检测实验室"
    assert len(longest) == SEAL_NAME_MAX_CHARS
    form = {
        "code": world.lab.code,
        "name_en": "Testing laboratory",
        "cma_no": world.lab.cma_no,
        "cert_prefix": world.lab.cert_prefix,
        "accredited_until": "2030-06-30",
        "scope": ["jade"],
    }
    refused = post_form(admin, edit, edit, form | {"name_zh": longest + "站"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="name_zh-error"' in page and "中文名称最多 30 个字（现有 31 个）" in page
    assert f'value="{longest}站"' in page
    db.rollback()
    db.refresh(world.lab)
    assert world.lab.name_zh != longest + "站"
    assert post_form(admin, edit, edit, form | {"name_zh": longest}).status_code == 302
    db.rollback()
    db.refresh(world.lab)
    assert world.lab.name_zh == longest


@pytest.mark.parametrize("username", ["analyst1", "reviewer1", "inspector1", "merchant1"])
def test_only_admins_open_the_testing_body_pages(app: Any, world: World, username: str) -> None:
    client = signed_in(app, username)
    assert client.get("/admin/testing-bodies").status_code == 403
    assert client.get(f"/admin/testing-bodies/{world.lab.id}").status_code == 403


def test_the_merchant_sees_why_an_item_failed(app: Any, flow: Flow) -> None:
    item = flow.declare(material="JADEITE", mass_g="12.40")
    flow.receive(item, mass_g="12.41")
    raw = {"mass_g": "12.41", "species": "jadeite", "ri": "1.66", "sg": "3.10", "ir_polymer": True}
    inspection = record_inspection(
        session=flow.db, actor=flow.world["analyst1"], code=item.code, raw=raw, now=utcnow()
    )
    flow.approve(inspection)
    page = signed_in(app, "merchant1").get(f"/items/{item.code}").get_data(as_text=True)
    assert "翡翠（处理）" in page
    assert "检测为翡翠（处理），申报为翡翠：材质不符" in page
    assert "处理方法：充填" in page
    other = signed_in(app, "merchant2").get(f"/items/{item.code}")
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("reviewer1", f"/review/{2**40}"),
        ("admin1", f"/admin/testing-bodies/{2**63}"),
        ("admin1", f"/admin/testing-bodies/{2**31}"),
    ],
)
def test_an_id_beyond_the_database_range_is_404(
    app: Any, world: World, username: str, url: str
) -> None:
    assert signed_in(app, username).get(url).status_code == 404
