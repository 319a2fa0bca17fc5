"""A set piece and a graded diamond through the API: declared with components, each component
measured, judged, approved, certified; the signed payload, the PDF and the consumer page list
every component (issue 19)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from qc_app.certificates.payload import parse
from qc_app.certificates.pdf import read_embedded_payload
from tests.conftest import World
from tests.integration.test_api_path import API, Api, assert_error

PIECE = {
    "article_type": "ring",
    "components": [
        {"material": "AU750", "stamp": "18K"},
        {"material": "DIAMOND", "count": 1, "carat": "0.30"},
        {"material": "RUBY", "count": 2},
    ],
}
# What identifies the ring at intake: its size and its main stone's (items/data/proof.json).
RING_SIZE = {"ring_size": "14", "stone_length_mm": "4.30", "stone_width_mm": "4.3"}
MEASURED = {
    "mass_g": "3.21",
    "components": [
        {"metal": "Au", "fineness_permille": "751.0", "stamp": "18K"},
        {
            "growth": "natural",
            "count": 1,
            "diamond_mass_g": "0.0598",
            "colour_grade": "H",
            "clarity_grade": "VS1",
        },
        {"species": "ruby", "growth": "natural", "count": 2},
    ],
}


@pytest.fixture
def api(client: Any, token: Callable[[str], dict[str, str]], world: World, db: Session) -> Api:
    headers = {name: token(name) for name in world.users}
    db.commit()
    return Api(client, headers)


def consign_piece(api: Api, **changes: Any) -> str:
    listing = api.listing(material_code="AU750")
    item = {"listing_id": listing, "mass_g": "3.20", **PIECE, **changes}
    answer = api.post("merchant1", "/consignments", {"items": [item]})
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["items"][0]["code"])


def test_a_declared_set_piece_keeps_its_components(api: Api) -> None:
    code = consign_piece(api)
    item = api.get("merchant1", f"/items/{code}").get_json()
    assert item["article_type"] == "ring"
    assert item["declared_material"] == "AU750"
    assert [c["material"] for c in item["components"]] == ["AU750", "DIAMOND", "RUBY"]
    assert item["components"][1] == {"material": "DIAMOND", "count": "1", "carat": "0.30"}


def test_a_bad_component_is_a_422_naming_it(api: Api) -> None:
    listing = api.listing(material_code="AU750")
    bad = {**PIECE, "components": [{"material": "AU750"}, {"material": "JADEITE", "carat": "1"}]}
    answer = api.post(
        "merchant1", "/consignments", {"items": [{"listing_id": listing, "mass_g": "3", **bad}]}
    )
    error = assert_error(answer, 422)
    assert "component 2" in error["message"]


def test_every_component_is_judged_and_the_piece_named(api: Api) -> None:
    code = consign_piece(api)
    api.receive(code, "3.21", RING_SIZE)
    found = api.inspect(code, MEASURED)
    assert (found["material_name"], found["verdict"]) == ("18K金钻石、红宝石戒指", "pass")
    assert [p["verdict"] for p in found["components"]] == ["pass", "pass", "pass"]
    assert found["components"][1]["grading"]["carat"] == "0.30"  # 0.299 ct, 逢九进一


def test_a_component_not_as_declared_fails_the_piece_and_is_named(api: Api) -> None:
    code = consign_piece(api)
    api.receive(code, "3.21", RING_SIZE)
    lab_grown = {**MEASURED["components"][1], "growth": "cvd"}
    del lab_grown["colour_grade"], lab_grown["clarity_grade"]
    measured = {
        **MEASURED,
        "components": [MEASURED["components"][0], lab_grown, MEASURED["components"][2]],
    }
    found = api.inspect(code, measured)
    assert found["verdict"] == "fail"
    decisive = [r for r in found["reasons"] if r["decisive"]]
    assert [r["code"] for r in decisive] == ["synthetic_not_declared"]
    assert decisive[0]["zh"].startswith("组成部分 2（钻石）")


def test_a_lab_grown_diamond_is_refused_grading_and_nothing_is_saved(api: Api) -> None:
    code = consign_piece(api)
    api.receive(code, "3.21", RING_SIZE)
    graded_cvd = {**MEASURED["components"][1], "growth": "cvd"}
    measured = {
        **MEASURED,
        "components": [MEASURED["components"][0], graded_cvd, MEASURED["components"][2]],
    }
    answer = api.post("analyst1", f"/items/{code}/inspections", measured)
    error = assert_error(answer, 422)
    assert "GB/T 16554" in error["message"]
    assert api.state(code) == "received"


def test_the_certificate_lists_every_component(api: Api, cjk_font_path: Any) -> None:
    code = consign_piece(api)
    api.receive(code, "3.21", RING_SIZE)
    api.approve(api.inspect(code, MEASURED)["id"])
    issued = api.issue(code)
    cert = api.client.get(f"{API}/certificates/{issued['number']}").get_json()
    parts = cert["payload"]["components"]
    assert [(p["declared"]["material"], p["name_zh"], p["result"]) for p in parts] == [
        ("AU750", "18K金", "pass"),
        ("DIAMOND", "钻石", "pass"),
        ("RUBY", "红宝石", "pass"),
    ]
    assert parts[1]["grading"]["colour"] == "H"
    pdf = api.client.get(
        f"{API}/certificates/{issued['number']}/pdf", headers=api.headers("merchant1")
    )
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    for expected in (
        "18K金钻石、红宝石戒指",
        "组成部分 1",
        "组成部分 2",
        "组成部分 3",
        "18K金",
        "红宝石 ×2",
        "16554-2017",
    ):
        assert expected in text, expected
    signed = parse(read_embedded_payload(pdf.data).payload_json)
    assert signed["components"] == parts
    page = api.client.get(issued["verify_url"].replace("http://qc.test", ""))
    html = page.get_data(as_text=True)
    assert 'id="components"' in html and "红宝石" in html and "VS" in html


def test_a_loose_diamond_is_graded_on_its_certificate(api: Api, cjk_font_path: Any) -> None:
    listing = api.listing(material_code="DIAMOND")
    answer = api.post(
        "merchant1", "/consignments", {"items": [{"listing_id": listing, "mass_g": "0.06"}]}
    )
    code = answer.get_json()["items"][0]["code"]
    api.receive(code, "0.06")
    measured = {
        "mass_g": "0.06",
        "growth": "natural",
        "diamond_mass_g": "0.1021",
        "colour_grade": "E",
        "clarity_grade": "IF",
        "round_brilliant": True,
        "cut_grade": "excellent",
        "uv_fluorescence": "none",
    }
    found = api.inspect(code, measured)
    assert found["grading"]["carat"] == "0.51"
    assert found["grading"]["clarity"] == "LC（IF）"
    api.approve(found["id"])
    issued = api.issue(code)
    cert = api.client.get(f"{API}/certificates/{issued['number']}").get_json()
    assert cert["payload"]["grading"]["colour_scale"] == "99"
    page = api.client.get(issued["verify_url"].replace("http://qc.test", "")).get_data(as_text=True)
    assert 'id="grading"' in page and "0.51 ct" in page


def test_the_csv_import_declares_a_set_piece(api: Api) -> None:
    listing = api.listing(material_code="AU750")
    csv = (
        "listing_id,mass_g,article_type,components\n"
        f'{listing},3.20,ring,"AU750 stamp=18K; DIAMOND count=1 carat=0.30"\n'
    ).encode()
    answer = api.post("merchant1", "/consignments/import", data=csv, content_type="text/csv")
    assert answer.status_code == 201, answer.get_json()
    item = answer.get_json()["items"][0]
    assert item["article_type"] == "ring"
    assert item["components"][0] == {"material": "AU750", "stamp": "18K"}
