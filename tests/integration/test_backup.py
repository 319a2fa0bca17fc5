"""Backups that restore: a backup taken while requests write, restored into a fresh instance,
gives the same rows and files; the audit chain verifies against its stored checkpoints and a
certificate from the restored store still verifies offline. Damaged backups and non-empty
targets are refused, changing nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, func, select

from qc_app import create_app
from qc_app.certificates import keys
from qc_app.certificates.models import Certificate
from qc_app.certificates.offline import verify_pdf
from qc_app.config import Config
from qc_app.db import engine_of
from qc_app.listings.models import Listing
from qc_app.ops.backup import MANIFEST, BackupError, Manifest, restore

LISTING = {"brand": "金福", "material_code": "AU990", "price_fen": 328000}


def cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", *args])


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """An empty database of the same kind as the test's own, for the restored instance."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return str(request.getfixturevalue("empty_database_url"))


def fresh_instance(app: Flask, tmp_path: Path, url: str) -> Flask:
    """A new instance with the source's secrets (a backup holds none) and its own store."""
    qc = app.config["QC"]
    return create_app(
        Config.for_tests(
            tmp_path / "restored",
            url,
            KEY_PASSPHRASE=qc.KEY_PASSPHRASE,
            CHECK_CODE_SECRET=qc.CHECK_CODE_SECRET,
        )
    )


@pytest.fixture
def backed_up(app: Flask, flow: Any, token: Any, tmp_path: Path) -> dict[str, Any]:
    """Two certificates and a checkpoint, then a backup taken while two clients add listings."""
    issued = [flow.certified()[1] for _ in range(2)]
    assert cli(app, "audit", "checkpoint").exit_code == 0
    headers = token("merchant1")
    stop = threading.Event()
    writing = threading.Event()
    answers: list[int] = []

    def add_listings(worker: int) -> None:
        client = app.test_client()
        n = 0
        while not stop.is_set() or n < 3:
            title = f"足金戒指 {worker}-{n}"
            response = client.post(
                "/api/v1/listings", json={"title": title, **LISTING}, headers=headers
            )
            answers.append(response.status_code)
            writing.set()
            n += 1

    writers = [threading.Thread(target=add_listings, args=(w,)) for w in range(2)]
    for writer in writers:
        writer.start()
    folder = tmp_path / "backup"
    assert writing.wait(timeout=30)
    try:
        result = cli(app, "backup", str(folder))
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert result.exit_code == 0, result.output
    assert answers and set(answers) == {201}
    return {"folder": folder, "issued": issued, "manifest": Manifest.read(folder)}


def test_a_backup_taken_while_writing_restores_into_a_fresh_instance(
    app: Flask, db: Session, backed_up: dict[str, Any], tmp_path: Path, fresh_url: str
) -> None:
    manifest: Manifest = backed_up["manifest"]
    listings_now = db.exec(select(func.count()).select_from(Listing)).one()
    assert manifest.rows["listings"] <= listings_now  # a snapshot from during the writes
    restored = fresh_instance(app, tmp_path, fresh_url)
    try:
        result = cli(restored, "restore", str(backed_up["folder"]))
        assert result.exit_code == 0, result.output
        with Session(engine_of(restored)) as session:
            assert (
                session.exec(select(func.count()).select_from(Listing)).one()
                == manifest.rows["listings"]
            )
            numbers = session.exec(select(Certificate.number).order_by(col(Certificate.id))).all()
            pdf_digests = session.exec(select(Certificate.pdf_sha256)).all()
            document = keys.jwks(session)
        assert numbers == [issued.certificate.number for issued in backed_up["issued"]]
        store = restored.extensions["qc_storage"]
        stored = {
            obj.key
            for kind in ("certificates", "photos", "checkpoints")
            for obj in store.list(kind)
        }
        assert stored == {copy.key for copy in manifest.files}
        assert {key for key in stored if key.startswith("checkpoints/")}
        verified = cli(restored, "audit", "verify")
        assert verified.exit_code == 0, verified.output
        for digest in pdf_digests:
            pdf = store.get(f"certificates/{digest[:2]}/{digest}.pdf")
            report = verify_pdf(pdf, document)
            assert report.ok, report
    finally:
        engine_of(restored).dispose()


def test_a_damaged_backup_is_refused_and_nothing_is_restored(
    app: Flask, backed_up: dict[str, Any], tmp_path: Path, fresh_url: str
) -> None:
    folder: Path = backed_up["folder"]
    photo = next(copy for copy in backed_up["manifest"].files if copy.key.startswith("photos/"))
    (folder / "files" / photo.key).write_bytes(b"not the photo")
    restored = fresh_instance(app, tmp_path, fresh_url)
    try:
        result = cli(restored, "restore", str(folder))
        assert result.exit_code == 1
        assert f"{photo.key} is missing or damaged" in result.output
        with engine_of(restored).connect() as connection:
            assert not engine_of(restored).dialect.has_table(connection, "listings")
        assert restored.extensions["qc_storage"].list("photos") == []
    finally:
        engine_of(restored).dispose()


def test_a_restore_over_a_database_in_use_is_refused(app: Flask, backed_up: dict[str, Any]) -> None:
    with pytest.raises(BackupError, match="not empty"):
        restore(
            engine=engine_of(app), files=app.extensions["qc_storage"], folder=backed_up["folder"]
        )


def test_a_backup_goes_into_a_new_folder_only(app: Flask, tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("keep me")
    result = cli(app, "backup", str(used))
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]


def test_a_folder_without_a_manifest_is_not_a_backup(app: Flask, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "database.sqlite3").write_bytes(b"")
    result = cli(app, "restore", str(partial))
    assert result.exit_code == 1
    assert f"holds no {MANIFEST}" in result.output


def test_the_manifest_lists_every_file_with_its_digest(backed_up: dict[str, Any]) -> None:
    folder: Path = backed_up["folder"]
    fields = json.loads((folder / MANIFEST).read_text())
    assert fields["format"] == "qc-backup-v1"
    kinds = {copy["key"].split("/")[0] for copy in fields["files"]}
    assert kinds == {"certificates", "photos", "checkpoints"}
    assert all(len(copy["sha256"]) == 64 for copy in fields["files"])
