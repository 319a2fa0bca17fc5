"""Proof of this very piece (issue 19): intake takes a complete set of photos and the dimensions
that identify the piece; their digests and the dimensions are signed, read back from the PDF,
listed on the consumer page, and a photo replaced in the store shows there as not the signed one."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from qc_app import storage
from qc_app.audit import AuditEvent
from qc_app.certificates.payload import certificate_payload, parse
from qc_app.certificates.pdf import read_embedded_payload
from qc_app.errors import ValidationFailed
from qc_app.intake.services import receive_scan
from qc_app.items import proof
from qc_app.items.models import Item, Photo
from qc_app.sqltypes import utcnow
from tests.conftest import NO_PHOTO, Flow, jpeg_bytes, proof_set, stored_files
from tests.integration.test_api_path import API, Api, assert_error
from tests.integration.test_set_piece_path import MEASURED, RING_SIZE, api, consign_piece

__all__ = ["api"]  # the fixture, used by name


def receive_with_proof(api: Api, code: str, views: dict[str, bytes]) -> Any:
    fields = proof.photo_fields()
    return api.post(
        "inspector1",
        f"/items/{code}/receive",
        data={
            "mass_g": "3.21",
            "dimensions": json.dumps(RING_SIZE),
            **{fields[v]: (io.BytesIO(data), f"{v}.jpg") for v, data in views.items()},
        },
        content_type="multipart/form-data",
    )


def certified_piece(api: Api) -> tuple[str, dict[str, Any]]:
    code = consign_piece(api)
    views = proof_set()
    answer = receive_with_proof(api, code, views)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["dimensions"] == {
        "ring_size": "14",
        "stone_length_mm": "4.3",
        "stone_width_mm": "4.3",
    }
    api.approve(api.inspect(code, MEASURED)["id"])
    return code, api.issue(code)


def test_the_pdf_carries_the_photo_digests_and_the_dimensions(
    api: Api, db: Session, cjk_font_path: Any
) -> None:
    code, issued = certified_piece(api)
    pdf = api.client.get(
        f"{API}/certificates/{issued['number']}/pdf", headers=api.headers("merchant1")
    )
    signed = parse(read_embedded_payload(pdf.data).payload_json)
    sent = proof_set()  # the bytes as sent; stored re-encoded, so digests come from the rows
    item = db.exec(select(Item).where(Item.code == code)).one()
    rows = db.exec(select(Photo).where(Photo.item_id == item.id).order_by(Photo.id)).all()
    assert signed["proof"] == {
        "photos": [{"view": p.view, "sha256": p.sha256} for p in rows],
        "dimensions": {"ring_size": "14", "stone_length_mm": "4.3", "stone_width_mm": "4.3"},
    }
    assert [p["view"] for p in signed["proof"]["photos"]] == ["front", "back", "stamp"]
    assert {p.original_sha256 for p in rows} == {
        hashlib.sha256(b).hexdigest() for b in sent.values()
    }
    assert signed["photo_sha256"] == rows[0].sha256  # the front is the certificate's picture
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "戒圈（港号）" in text and "主石长" in text and "4.3 mm" in text


def test_the_consumer_page_links_the_signed_photos_and_lists_the_dimensions(
    api: Api, cjk_font_path: Any
) -> None:
    _code, issued = certified_piece(api)
    url = issued["verify_url"].replace("http://qc.test", "")
    page = api.client.get(url).get_data(as_text=True)
    signed = api.client.get(f"{API}/certificates/{issued['number']}").get_json()["payload"]
    links = [url.replace("?", f"/photos/{p['sha256']}.jpg?") for p in signed["proof"]["photos"]]
    assert 'id="intake-proof"' in page and page.count("data-photo-check") == 3
    assert all(link.replace("&", "&amp;") in page for link in links)
    assert "戒圈（港号）</dt><dd>14</dd>" in page and "主石长</dt><dd>4.3 mm</dd>" in page
    assert [api.client.get(link).status_code for link in links] == [200, 200, 200]
    other = url.replace("?", f"/photos/{'0' * 64}.jpg?")  # not a signed photo
    assert api.client.get(other).status_code == 404


def test_a_replaced_or_lost_photo_is_not_served_as_the_signed_one(
    app: Any, api: Api, cjk_font_path: Any
) -> None:
    _code, issued = certified_piece(api)
    url = issued["verify_url"].replace("http://qc.test", "")
    signed = api.client.get(f"{API}/certificates/{issued['number']}").get_json()["payload"]
    back = signed["proof"]["photos"][1]["sha256"]
    link = url.replace("?", f"/photos/{back}.jpg?")
    # Someone replaces the stored back photo with a picture of another piece.
    path = app.config["QC"].INSTANCE_PATH / "photos" / back[:2] / f"{back}.jpg"
    path.write_bytes(jpeg_bytes(colour=(10, 200, 10)))
    refused = api.client.get(link)
    assert refused.status_code == 404 and "照片与证书签名不符" in refused.get_data(as_text=True)
    path.unlink()
    assert api.client.get(link).status_code == 404


def test_a_certificate_without_proof_keeps_its_old_bytes() -> None:
    fields: dict[str, Any] = {
        "number": "N1",
        "item": {"code": "QC1"},
        "merchant": {},
        "listing": {},
        "testing_body": {},
        "material": {},
        "measured": {},
        "conclusion": "pass",
        "photo_sha256": None,
        "issued_at": "2026-11-30T00:00:00+00:00",
        "rule_version": "r",
        "kid": "k",
    }
    assert certificate_payload(**fields) == certificate_payload(**fields, proof=None)
    assert b"proof" not in certificate_payload(**fields)


def test_an_item_received_without_photos_signs_the_reason(
    flow: Flow, db: Session, cjk_font_path: Any
) -> None:
    item = flow.declare()
    flow.receive(item, photo=False)
    assert db.get_one(Item, item.id).no_photo == {"reason": "camera_fault", "note": "镜头损坏"}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "receive")).one()
    assert event.details()["no_photo"] == {"reason": "camera_fault", "note": "镜头损坏"}
    flow.approve(flow.inspect(item))
    issued = flow.certify(item)
    assert parse(issued.certificate.payload.encode())["proof"] == {
        "photos": [],
        "dimensions": {},
        "no_photo": {"reason": "camera_fault", "note": "镜头损坏"},
    }
    pdf = storage.load(
        stored_files(flow.app), "certificates", issued.certificate.pdf_sha256, ".pdf"
    )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "收货时未拍照片：拍照设备故障（镜头损坏）" in text.replace("\n", "")
    assert "No photo was taken at intake: camera fault (镜头损坏)" in " ".join(text.split())


def test_without_photos_and_without_a_reason_nothing_is_received(flow: Flow, db: Session) -> None:
    item = flow.declare()
    with pytest.raises(ValidationFailed) as refused:
        receive_scan(
            session=db,
            actor=flow.world["inspector1"],
            code=item.code,
            mass_g="5.03",
            photo=None,
            files=stored_files(flow.app),
            now=utcnow(),
        )
    assert refused.value.fields["photos"].render("zh") == (
        "请拍照片（正面；背面；印记），或选择无法拍照的原因"
    )
    db.rollback()
    assert db.get_one(Item, item.id).received_at is None
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "receive")).all() == []


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [("broken", "", "no_photo_reason"), ("other", "", "no_photo_note")],
    ids=["unknown-reason", "other-without-words"],
)
def test_a_reason_must_be_one_we_know_and_other_must_say_what(
    flow: Flow, db: Session, reason: str, note: str, field: str
) -> None:
    item = flow.declare()
    with pytest.raises(ValidationFailed) as refused:
        receive_scan(
            session=db,
            actor=flow.world["inspector1"],
            code=item.code,
            mass_g="5.03",
            photo=None,
            no_photo_reason=reason,
            no_photo_note=note,
            files=stored_files(flow.app),
            now=utcnow(),
        )
    assert set(refused.value.fields) == {field}


@pytest.mark.parametrize(
    ("views", "problem"),
    [
        ({"front"}, "照片不全，还须拍：背面；印记"),
        ({"front", "back"}, "照片不全，还须拍：印记"),
        ({"front", "back", "detail"}, "照片不全，还须拍：印记"),
        ({"back", "stamp", "detail"}, "照片不全，还须拍：正面"),
    ],
    ids=["front-only", "no-stamp", "a-detail-is-no-stamp-for-gold", "no-front"],
)
def test_an_incomplete_set_is_refused_and_nothing_is_stored(
    flow: Flow, db: Session, views: set[str], problem: str
) -> None:
    item = flow.declare()  # gold: its stamp is required
    sent = {v: jpeg_bytes(colour=(i * 40, 90, 90)) for i, v in enumerate(sorted(views))}
    with pytest.raises(ValidationFailed) as refused:
        receive_scan(
            session=db,
            actor=flow.world["inspector1"],
            code=item.code,
            mass_g="5.03",
            photo=sent.pop("front", None),
            views=sent,
            files=stored_files(flow.app),
            now=utcnow(),
        )
    assert refused.value.message.render("zh") == problem
    db.rollback()
    assert db.exec(select(Photo)).all() == []
    assert db.get_one(Item, item.id).received_at is None
    assert not list((flow.app.config["QC"].INSTANCE_PATH / "photos").glob("*/*.jpg"))


@pytest.mark.parametrize(
    ("dimensions", "problem"),
    [
        ({"ring_size": "14"}, "请填写主石长"),
        ({**RING_SIZE, "ring_size": "41"}, "戒圈（港号） 超出范围（1–40）：41.0"),
        ({**RING_SIZE, "ring_size": "14.25"}, "戒圈（港号） 最多 1 位小数"),
        ({**RING_SIZE, "girth": "3"}, "未知的尺寸：girth"),
    ],
    ids=["missing", "out-of-range", "too-precise", "unknown"],
)
def test_the_dimensions_of_the_article_type_are_required_and_checked(
    api: Api, dimensions: dict[str, str], problem: str
) -> None:
    code = consign_piece(api)
    answer = api.post(
        "inspector1",
        f"/items/{code}/receive",
        {"mass_g": "3.21", "dimensions": dimensions, **NO_PHOTO},
    )
    error = assert_error(answer, 422)
    said = [error["message_zh"], *(f["message_zh"] for f in error.get("fields", {}).values())]
    assert problem in said, error
    assert api.state(code) == "declared"


def test_a_plain_item_needs_no_dimensions_and_may_give_known_ones(flow: Flow) -> None:
    item = flow.receive(flow.declare(), dimensions={"length_mm": "20.50"})
    assert item.dimensions == {"length_mm": "20.5"}


def test_every_photo_of_the_set_is_stored_under_its_digest(flow: Flow, db: Session) -> None:
    item = flow.receive(flow.declare())
    photos = {p.view: p.sha256 for p in db.exec(select(Photo).where(Photo.item_id == item.id))}
    assert set(photos) == {"front", "back", "stamp"}
    for digest in photos.values():
        stored = storage.load(stored_files(flow.app), "photos", digest, ".jpg")
        assert hashlib.sha256(stored).hexdigest() == digest
