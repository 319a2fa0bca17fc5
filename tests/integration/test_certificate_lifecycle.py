"""Certificates through their life with the real services: the PDF's two signatures, key
rotation and windows, revocation and reissue, and batch issuance that survives failures."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from qc_app import storage
from qc_app.audit import AuditEvent
from qc_app.certificates import (
    batches,
    ca,
    issuance,
    keys,
    lookup,
    offline,
    payload,
    revocation,
)
from qc_app.certificates.models import Certificate, CertificateStatus, IssuanceBatch
from qc_app.certificates.pdf import read_embedded_payload
from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.orphans import sweep_orphans
from qc_app.sqltypes import utcnow
from qc_app.storage import Storage, StorageError
from qc_app.verification import services as verification
from qc_app.verification.services import Verdict
from tests.conftest import issuing_setup, stored_files, stored_pdfs

pytestmark = [pytest.mark.cjk_font, pytest.mark.usefixtures("cjk_font_path")]


def pdf_of(flow: Any, number: str) -> bytes:
    return lookup.certificate_pdf(
        session=flow.db,
        actor=flow.world["admin1"],
        number=number,
        files=stored_files(flow.app),
    )


# -- the issued PDF ----------------------------------------------------------------------------


def test_issued_pdf_passes_every_offline_check(flow: Any, cjk_font_path: Path) -> None:
    _, issued = flow.certified()
    report = offline.verify_pdf(pdf_of(flow, issued.certificate.number), keys.jwks(flow.db))
    assert report.ok, [c for c in report.checks if not c.ok]
    assert {c.name for c in report.checks} >= {
        "payload signature (Ed25519)",
        "key window",
        "PDF signature (PAdES)",
        "PDF signer chains to platform CA",
        "PDF signer is the payload's testing body",
    }


def test_pdf_is_signed_by_the_testing_body_of_the_result(flow: Any, cjk_font_path: Path) -> None:
    from qc_app.certificates import pades

    _, issued = flow.certified()
    root = ca.platform_ca(flow.db)
    assert root is not None
    report = pades.validate(
        pdf_of(flow, issued.certificate.number), trust_roots_pem=[root.certificate_pem]
    )
    assert report.ok
    assert report.signer_common_name == flow.world.lab.code == "GTC"


def test_prepare_writes_nothing_the_body_certificate_is_made_before(flow: Any) -> None:
    """A body's first issue gets its PDF-signing certificate in `signers_for`, committed on
    its own; `prepare` then only reads: no credential, no audit event, nothing to flush."""
    (item,) = flow.approved(1)
    setup = issuing_setup(flow.app)
    context = issuance.context_of(flow.db, item)
    body = context[1]
    with pytest.raises(Conflict):
        ca.pades_signer_for(flow.db, setup.passphrase, body)
    signers = issuance.signers_for(session=flow.db, setup=setup, body=body, now=utcnow())
    assert ca.body_credential(flow.db, body.code) is not None
    credentials = len(ca.pdf_credentials(flow.db))
    events = len(flow.db.exec(select(AuditEvent)).all())
    prepared = issuance.prepare(
        session=flow.db,
        actor=flow.world["inspector1"],
        item=item,
        context=context,
        signers=signers,
        setup=setup,
        now=utcnow(),
    )
    assert not flow.db.new and not flow.db.dirty
    assert len(ca.pdf_credentials(flow.db)) == credentials
    assert len(flow.db.exec(select(AuditEvent)).all()) == events
    assert prepared.certificate.id is None


def test_jwks_publishes_the_ca_as_x5c(flow: Any, cjk_font_path: Path) -> None:
    flow.certified()
    document = keys.jwks(flow.db)
    ca_entries = [k for k in document["keys"] if k.get("qc_role") == "pdf-ca"]
    assert len(ca_entries) == 1
    assert ca_entries[0]["kty"] == "EC" and ca_entries[0]["crv"] == "P-256"
    assert offline.ca_certificates_from_jwks(document)[0].startswith("-----BEGIN CERTIFICATE")


def test_pdf_shows_measurements_and_remarks(flow: Any, cjk_font_path: Path) -> None:
    import io

    from pypdf import PdfReader

    _, issued = flow.certified()
    text = PdfReader(io.BytesIO(pdf_of(flow, issued.certificate.number))).pages[0].extract_text()
    for expected in ("5.03 g", "999.2 ‰", "金 Au", "形状", "颜色", "—", "足金", "CMA-TEST-1"):
        assert expected in text


# -- keys: rotation and windows ------------------------------------------------------------------


def test_certificates_signed_before_a_rotation_keep_verifying(
    flow: Any, cjk_font_path: Path
) -> None:
    _, before = flow.certified()
    old_kid = before.certificate.kid
    new_key = keys.rotate_signing_key(
        session=flow.db,
        actor=None,
        passphrase=flow.app.config["QC"].signing_passphrase(),
        now=utcnow(),
    )
    assert new_key.kid != old_kid
    _, after = flow.certified()
    assert after.certificate.kid == new_key.kid
    document = keys.jwks(flow.db)
    for number in (before.certificate.number, after.certificate.number):
        assert offline.verify_pdf(pdf_of(flow, number), document).ok
    view = verification.by_code(
        session=flow.db,
        number=before.certificate.number,
        check_code=before.check_code,
        key=flow.app.config["QC"].CHECK_CODE_KEY,
        now=utcnow(),
    )
    assert view.verdict == Verdict.VALID


def test_jwks_lists_current_and_retired_keys_with_windows(flow: Any) -> None:
    keys.rotate_signing_key(
        session=flow.db,
        actor=None,
        passphrase=flow.app.config["QC"].signing_passphrase(),
        now=utcnow(),
    )
    ed25519 = [k for k in keys.jwks(flow.db)["keys"] if k["kty"] == "OKP"]
    states = sorted(k["qc_state"] for k in ed25519)
    assert states == ["current", "retired"]
    retired = next(k for k in ed25519 if k["qc_state"] == "retired")
    current = next(k for k in ed25519 if k["qc_state"] == "current")
    assert retired["nbf"] <= retired["exp"] <= current["nbf"]
    assert "exp" not in current


def test_payload_dated_outside_its_keys_window_is_refused(flow: Any) -> None:
    key = keys.current_key(flow.db)
    assert key is not None
    signer = keys.signer_for(flow.db, flow.app.config["QC"].signing_passphrase())
    before_key = (key.not_before - timedelta(days=30)).isoformat(timespec="seconds")
    data = payload.canonical(
        {"format": payload.FORMAT, "number": "GTC-X", "issued_at": before_key, "kid": key.kid}
    )
    report = offline.Report()
    offline._check_payload_signature(
        report, keys.jwks(flow.db), data, signer.sign(data), json.loads(data)
    )
    checks = {check.name: check for check in report.checks}
    assert checks["payload signature (Ed25519)"].ok  # genuinely signed by the key...
    assert not checks["key window"].ok  # ...but dated before the key existed
    assert "not valid for signing" in checks["key window"].detail
    assert not report.ok


# -- revocation and reissue -----------------------------------------------------------------------


def test_revoked_certificate_is_authentic_but_never_valid(flow: Any, cjk_font_path: Path) -> None:
    _, issued = flow.certified()
    revocation.revoke(
        session=flow.db,
        actor=flow.world["admin1"],
        number=issued.certificate.number,
        reason="假一赔十索赔成立",
        now=utcnow(),
    )
    view = verification.by_code(
        session=flow.db,
        number=issued.certificate.number,
        check_code=issued.check_code,
        key=flow.app.config["QC"].CHECK_CODE_KEY,
        now=utcnow(),
    )
    assert view.verdict == Verdict.REVOKED
    assert view.record is not None and view.record.revoke_reason == "假一赔十索赔成立"


def reissue(flow: Any, number: str, reason: str = "商家名称有误") -> Any:
    return revocation.reissue(
        session=flow.db,
        actor=flow.world["admin1"],
        number=number,
        reason=reason,
        setup=issuing_setup(flow.app),
        now=utcnow(),
    )


def test_reissue_points_old_to_new_and_consumer_page_says_superseded(
    flow: Any, cjk_font_path: Path
) -> None:
    item, issued = flow.certified()
    old_number = issued.certificate.number
    new = reissue(flow, old_number)
    old = lookup.find(flow.db, old_number)
    assert old is not None
    assert old.status == CertificateStatus.REVOKED
    assert old.superseded_by == new.certificate.number
    assert new.certificate.reissue_of == old_number
    assert new.certificate.item_id == item.id
    key = flow.app.config["QC"].CHECK_CODE_KEY
    view = verification.by_code(
        session=flow.db, number=old_number, check_code=issued.check_code, key=key, now=utcnow()
    )
    assert view.verdict == Verdict.SUPERSEDED
    assert view.record is not None and view.record.replacement_url is not None
    assert view.record.replacement_url.startswith(f"/v/{new.certificate.number}?")
    fresh = verification.by_code(
        session=flow.db,
        number=new.certificate.number,
        check_code=new.check_code,
        key=key,
        now=utcnow(),
    )
    assert fresh.verdict == Verdict.VALID
    assert offline.verify_pdf(pdf_of(flow, new.certificate.number), keys.jwks(flow.db)).ok


@pytest.mark.parametrize(
    ("who", "reason", "error"),
    [("inspector1", "typo", Forbidden), ("admin1", "  ", ValidationFailed)],
)
def test_reissue_refusals(
    flow: Any, cjk_font_path: Path, who: str, reason: str, error: type
) -> None:
    _, issued = flow.certified()
    with pytest.raises(error):
        revocation.reissue(
            session=flow.db,
            actor=flow.world[who],
            number=issued.certificate.number,
            reason=reason,
            setup=issuing_setup(flow.app),
            now=utcnow(),
        )


def test_a_revoked_certificate_cannot_be_reissued(flow: Any, cjk_font_path: Path) -> None:
    _, issued = flow.certified()
    reissue(flow, issued.certificate.number)
    with pytest.raises(Conflict):
        reissue(flow, issued.certificate.number)


# -- batch issuance ----------------------------------------------------------------------------


def run_batch(flow: Any, codes: list[str]) -> batches.BatchStatus:
    inspector = flow.world["inspector1"]
    batch = batches.start_batch(session=flow.db, actor=inspector, codes=codes, now=utcnow())
    status = batches.batch_status(flow.db, batch, now=utcnow())
    for _ in range(len(codes) + 1):
        status = batches.run_batch_step(
            session=flow.db,
            actor=inspector,
            batch_id=batch.id,
            setup=issuing_setup(flow.app),
            now=utcnow(),
            budget_seconds=0.0,  # one certificate per step: exercises resuming
        )
        if not status.pending:
            break
    return status


def test_batch_issues_every_approved_item(flow: Any, cjk_font_path: Path) -> None:
    items = flow.approved(4)
    status = run_batch(flow, [item.code for item in items])
    assert status.finished
    assert sorted(status.issued) == sorted(item.code for item in items)
    assert not status.failures
    for number in status.issued.values():
        embedded = read_embedded_payload(pdf_of(flow, number))
        assert json.loads(embedded.payload_json)["number"] == number


def test_batch_refuses_items_not_awaiting_a_certificate(flow: Any, cjk_font_path: Path) -> None:
    item, _ = flow.certified()
    with pytest.raises(Conflict):
        batches.start_batch(
            session=flow.db, actor=flow.world["inspector1"], codes=[item.code], now=utcnow()
        )


def test_batch_is_refused_to_analysts(flow: Any) -> None:
    with pytest.raises(Forbidden):
        batches.start_batch(
            session=flow.db, actor=flow.world["analyst1"], codes=["QC1"], now=utcnow()
        )


@pytest.mark.parametrize(
    "failure", [OSError("disk full"), StorageError("disk full: the S3 store refused")]
)
def test_storage_failure_mid_batch_leaves_no_orphan_rows_or_files(
    flow: Any, cjk_font_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    items = flow.approved(4)
    real_store = storage.store
    calls = {"n": 0}

    def flaky_store(root: Storage, kind: str, data: bytes, suffix: str) -> str:
        if kind == "certificates":
            calls["n"] += 1
            if calls["n"] == 2:
                raise failure
        return real_store(root, kind, data, suffix)

    monkeypatch.setattr(storage, "store", flaky_store)
    status = run_batch(flow, [item.code for item in items])
    assert len(status.issued) == 3
    assert list(status.failures) == [items[1].code]
    assert "disk full" in status.failures[items[1].code]
    rows = flow.db.exec(select(Certificate)).all()
    assert {row.pdf_sha256 for row in rows} == stored_pdfs(flow.app)
    assert len(rows) == 3


def test_commit_failure_removes_the_pdf_it_stored(
    flow: Any, cjk_font_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (item,) = flow.approved(1)

    def broken_apply(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("crash between file and row")

    monkeypatch.setattr(issuance, "apply", broken_apply)
    with pytest.raises(RuntimeError):
        flow.certify(item)
    assert flow.db.exec(select(Certificate)).all() == []
    assert stored_pdfs(flow.app) == set()


def test_sweep_removes_pdfs_left_by_a_hard_crash(flow: Any, cjk_font_path: Path) -> None:
    _, issued = flow.certified()
    files = stored_files(flow.app)
    orphan = storage.store(files, "certificates", b"%PDF-1.4 left by a crash", ".pdf")
    later = utcnow() + timedelta(hours=1)
    removed = sweep_orphans(session=flow.db, files=files, now=later)
    assert removed == [f"certificates/{orphan[:2]}/{orphan}.pdf"]
    assert stored_pdfs(flow.app) == {issued.certificate.pdf_sha256}


def test_batch_status_comes_from_the_certificates(flow: Any, cjk_font_path: Path) -> None:
    """A batch whose worker died mid-way reports what really happened and resumes."""
    items = flow.approved(2)
    inspector = flow.world["inspector1"]
    batch = batches.start_batch(
        session=flow.db, actor=inspector, codes=[i.code for i in items], now=utcnow()
    )
    flow.certify(items[0])  # issued outside the batch, e.g. by a step that then crashed
    status = batches.batch_status(flow.db, flow.db.get(IssuanceBatch, batch.id), now=utcnow())
    assert list(status.issued) == [items[0].code]
    assert status.pending == [items[1].code]


@pytest.mark.skipif(os.environ.get("TEST_STORAGE") == "s3", reason="ages a file in the folder")
def test_the_sweep_command_removes_an_old_orphan_from_the_instance_folder(
    flow: Any, cjk_font_path: Path
) -> None:
    _, issued = flow.certified()
    orphan = storage.store(stored_files(flow.app), "certificates", b"%PDF-1.4 crash", ".pdf")
    path = flow.app.config["QC"].INSTANCE_PATH / "certificates" / orphan[:2] / f"{orphan}.pdf"
    an_hour_ago = (utcnow() - timedelta(hours=1)).timestamp()
    os.utime(path, (an_hour_ago, an_hour_ago))
    with flow.app.app_context():
        swept = flow.app.test_cli_runner().invoke(args=["qc", "storage", "sweep"])
    assert swept.exit_code == 0, swept.output
    assert f"removed certificates/{orphan[:2]}/{orphan}.pdf" in swept.output
    assert stored_pdfs(flow.app) == {issued.certificate.pdf_sha256}
