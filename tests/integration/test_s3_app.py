"""The whole service on an S3 store (QC_STORAGE_URL=s3://…, a real Swift server): every file a
request keeps goes there, and nothing lands in the instance folder."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from sqlmodel import select

from qc_app import create_app, storage
from qc_app.certificates import keys, lookup, offline
from qc_app.claims.models import Evidence
from qc_app.config import Config
from qc_app.db import engine_of
from qc_app.errors import Unavailable
from qc_app.items.models import Item, Photo
from qc_app.orphans import sweep_orphans
from qc_app.sqltypes import utcnow
from qc_app.storage import S3Storage, StorageError, s3_client
from tests.claims_support import file, sell
from tests.conftest import S3_BUCKET, S3_KEYS, Flow, jpeg_bytes, s3_settings, stored_files
from tests.web.helpers import qr_path

pytestmark = [pytest.mark.cjk_font, pytest.mark.usefixtures("cjk_font_path")]


@pytest.fixture
def app(
    tmp_path: Path, database_url: str, s3_endpoint: str, _compiled_templates: BytecodeCache
) -> Iterator[Flask]:
    config = Config.for_tests(
        tmp_path / "instance", database_url, RATELIMIT_ENABLED=False, **s3_settings(s3_endpoint)
    )
    app = create_app(config)
    app.jinja_env.bytecode_cache = _compiled_templates
    yield app
    engine_of(app).dispose()
    app.extensions["qc_counter_engine"].dispose()


def photo_url(app: Flask, sold: Any) -> str:
    """The photo the consumer's page shows (the QR's URL carries what the photo needs)."""
    page = app.test_client().get(qr_path(sold)).get_data(as_text=True)
    found = re.search(r'class="photo"[^>]* src="([^"]+)"', page)
    assert found, page[:2000]
    return html.unescape(found.group(1))


def cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", *args])


def digests(app: Flask, kind: str) -> set[str | None]:
    return {o.digest for o in stored_files(app).list(kind)}


def test_a_received_photo_is_stored_in_s3_not_on_disk(app: Flask, flow: Flow) -> None:
    item = flow.receive(flow.declare())  # the intake set: front, back, detail
    photos = flow.db.exec(select(Photo).where(Photo.item_id == item.id)).all()
    assert isinstance(stored_files(app), S3Storage)
    assert digests(app, "photos") == {p.sha256 for p in photos} and len(photos) == 3
    assert not (app.config["QC"].INSTANCE_PATH / "photos").exists()


def test_an_issued_certificate_pdf_is_read_back_from_s3_and_verifies(
    app: Flask, flow: Flow
) -> None:
    _, issued = flow.certified()
    assert digests(app, "certificates") == {issued.certificate.pdf_sha256}
    pdf = lookup.certificate_pdf(
        session=flow.db,
        actor=flow.world["admin1"],
        number=issued.certificate.number,
        files=stored_files(app),
    )
    report = offline.verify_pdf(pdf, keys.jwks(flow.db))
    assert report.ok, [c for c in report.checks if not c.ok]


def test_the_consumer_page_serves_the_photo_from_s3(app: Flask, flow: Flow) -> None:
    sold = sell(flow)
    # The page's large photo is the signed front photo, checked against its digest as S3
    # returns it; so is every photo of the signed intake set.
    served = app.test_client().get(photo_url(app, sold))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    photos = json.loads(sold.issued.certificate.payload)["proof"]["photos"]
    front = next(p["sha256"] for p in photos if p["view"] == "front")
    assert served.data == storage.load(stored_files(app), "photos", front, ".jpg")
    for photo in photos:
        path = qr_path(sold).replace("?", f"/photos/{photo['sha256']}.jpg?")
        signed = app.test_client().get(path)
        assert signed.status_code == 200 and signed.mimetype == "image/jpeg"


def test_claim_evidence_is_stored_in_s3(app: Flask, flow: Flow) -> None:
    filed = file(flow, sell(flow))
    evidence = flow.db.exec(select(Evidence).where(Evidence.claim_id == filed.claim.id)).all()
    assert [e.kind for e in evidence] == ["jpg"]
    assert digests(app, "evidence") == {evidence[0].sha256}


def test_audit_checkpoints_are_stored_in_s3_and_verified_from_there(app: Flask, flow: Flow) -> None:
    flow.receive(flow.declare())
    made = cli(app, "audit", "checkpoint")
    assert made.exit_code == 0, made.output
    again = cli(app, "audit", "checkpoint")
    assert "already stored" in again.output  # no event since: one object per chain position
    [stored] = stored_files(app).list("checkpoints")
    assert stored.key.startswith("checkpoints/") and stored.key.endswith(".json")
    checked = cli(app, "audit", "verify")
    assert checked.exit_code == 0, checked.output
    assert "1 signed checkpoints agree" in checked.output


def test_a_forged_checkpoint_in_the_store_fails_verification(app: Flask, flow: Flow) -> None:
    flow.receive(flow.declare())
    cli(app, "audit", "checkpoint")
    files = stored_files(app)
    [stored] = files.list("checkpoints")
    fields = json.loads(files.get(stored.key))
    files.delete(stored.key)
    files.put(stored.key, json.dumps({**fields, "hash": "0" * 64}).encode())
    checked = cli(app, "audit", "verify")
    assert checked.exit_code == 1 and "not genuine" in checked.output


def test_the_sweep_removes_unreferenced_objects_and_keeps_referenced_ones(
    app: Flask, flow: Flow
) -> None:
    _, issued = flow.certified()
    evidence = file(flow, sell(flow)).claim
    files = stored_files(app)
    orphans = {
        "photos": storage.store(files, "photos", jpeg_bytes(colour=(1, 2, 3)), ".jpg"),
        "certificates": storage.store(files, "certificates", b"%PDF-1.7 crash", ".pdf"),
        "evidence": storage.store(files, "evidence", b"%PDF-1.7 refused claim", ".pdf"),
    }
    kept = {kind: digests(app, kind) - {orphans[kind]} for kind in orphans}
    assert all(kept.values()) and evidence.id

    assert sweep_orphans(session=flow.db, files=files, now=utcnow()) == []  # within the grace
    removed = sweep_orphans(session=flow.db, files=files, now=utcnow() + timedelta(hours=1))
    assert sorted(key.split("/")[0] for key in removed) == sorted(orphans)
    assert {kind: digests(app, kind) for kind in orphans} == kept
    assert issued.certificate.pdf_sha256 in kept["certificates"]


def test_the_sweep_command_lists_what_it_removed(app: Flask, flow: Flow) -> None:
    orphan = storage.store(stored_files(app), "photos", jpeg_bytes(), ".jpg")
    young = cli(app, "storage", "sweep")
    assert young.exit_code == 0 and "removed 0 unreferenced" in young.output
    stored = stored_files(app).list("photos")
    assert [o.digest for o in stored] == [orphan]


def test_a_store_that_does_not_answer_refuses_the_intake_and_records_nothing(
    app: Flask, flow: Flow
) -> None:
    item = flow.declare()
    client = s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=S3_KEYS)
    app.extensions["qc_storage"] = S3Storage(client, S3_BUCKET, "down")
    with pytest.raises(StorageError):
        flow.receive(item)
    flow.db.rollback()
    assert flow.db.exec(select(Photo)).all() == []
    assert flow.db.get(Item, item.id).received_at is None  # type: ignore[union-attr]


def test_a_store_error_is_a_503_that_says_nothing_was_changed(app: Flask, flow: Flow) -> None:
    sold = sell(flow)
    client = s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=S3_KEYS)
    url = photo_url(app, sold)
    app.extensions["qc_storage"] = S3Storage(client, S3_BUCKET, "down")
    served = app.test_client().get(url)
    assert served.status_code == Unavailable.status
    assert "文件存储暂时无法访问" in served.get_data(as_text=True)
