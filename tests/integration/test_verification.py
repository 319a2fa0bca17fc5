"""The consumer page's verdict from the real services: genuine, revoked, not found, forged, and
records altered in the database."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlmodel import select

from qc_app.certificates import keys
from qc_app.certificates.payload import canonical
from qc_app.codes import new_certificate_number
from qc_app.db import write
from qc_app.sqltypes import utcnow
from qc_app.verification import scans
from qc_app.verification.scans import ScanHour
from qc_app.verification.services import Verdict, by_code, by_qr

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def scan(flow: Any, url: str) -> Any:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return by_qr(
        session=flow.db,
        number=parts.path.rsplit("/", 1)[1],
        kid=query["k"][0],
        signature=query["s"][0],
        now=utcnow(),
    )


def qr(number: str, kid: str, signature: str) -> str:
    return f"/v/{number}?k={kid}&s={signature}"


def set_row(flow: Any, number: str, **columns: str) -> None:
    """What an intruder with write access to the database would do, bypassing the services."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with write(flow.db):
        flow.db.execute(
            text(f"UPDATE certificates SET {assignments} WHERE number = :number"),
            {**columns, "number": number},
        )
    flow.db.expire_all()


def test_the_printed_qr_shows_the_signed_facts(flow: Any) -> None:
    _, issued = flow.certified()
    view = scan(flow, issued.verify_url)
    assert view.verdict == Verdict.VALID and view.record is not None and view.payload
    assert view.payload["number"] == issued.certificate.number
    assert view.payload["measured"]["mass_g"] == "5.03"
    assert view.payload["testing_body"]["cma"] == flow.world.lab.cma_no
    assert view.record.body_name_en == flow.world.lab.name_en
    assert view.photo_url and view.photo_url.startswith(f"/v/{issued.certificate.number}/photo")
    assert view.record.scans.total == 0  # reading the verdict counts nothing by itself


def test_an_altered_qr_signature_is_forged(flow: Any) -> None:
    _, issued = flow.certified()
    c = issued.certificate
    flipped = ("A" if c.url_signature[5] != "A" else "B").join(
        (c.url_signature[:5], c.url_signature[6:])
    )
    assert scan(flow, qr(c.number, c.kid, flipped)).verdict == Verdict.FORGED
    assert scan(flow, qr(c.number, "nokey", c.url_signature)).verdict == Verdict.FORGED
    assert scan(flow, qr("GTC-XYZ", c.kid, c.url_signature)).verdict == Verdict.FORGED


def test_a_code_we_signed_without_a_record_is_not_found(flow: Any, app: Any) -> None:
    flow.certified()
    signer = keys.signer_for(flow.db, app.config["QC"].signing_passphrase())
    number = new_certificate_number("GTC")
    view = scan(flow, qr(number, signer.kid, signer.sign_url(number)))
    assert view.verdict == Verdict.NOT_FOUND and view.record is None


def test_a_payload_altered_in_the_database_is_forged_by_qr_and_by_code(flow: Any) -> None:
    _, issued = flow.certified()
    number = issued.certificate.number
    body = json.loads(issued.certificate.payload)
    body["measured"]["mass_g"] = "9.99"
    set_row(flow, number, payload=canonical(body).decode())
    assert scan(flow, issued.verify_url).verdict == Verdict.FORGED
    typed = by_code(
        session=flow.db,
        number=number,
        check_code=issued.check_code,
        key=flow.app.config["QC"].CHECK_CODE_KEY,
        now=utcnow(),
    )
    assert typed.verdict == Verdict.FORGED and typed.record is None


def test_a_genuine_payload_moved_onto_another_number_is_forged(flow: Any) -> None:
    _, first = flow.certified()
    _, second = flow.certified()
    set_row(
        flow,
        second.certificate.number,
        payload=first.certificate.payload,
        signature=first.certificate.signature,
    )
    assert scan(flow, second.verify_url).verdict == Verdict.FORGED
    assert scan(flow, first.verify_url).verdict == Verdict.VALID


def test_a_certificate_signed_just_after_a_key_rotation_verifies_at_once(
    flow: Any, app: Any
) -> None:
    _, before = flow.certified()
    assert scan(flow, before.verify_url).verdict == Verdict.VALID  # keys now read by this process
    keys.rotate_signing_key(
        session=flow.db,
        actor=flow.world["admin1"],
        passphrase=app.config["QC"].signing_passphrase(),
        now=utcnow(),
    )
    _, after = flow.certified()
    assert after.certificate.kid != before.certificate.kid
    assert scan(flow, after.verify_url).verdict == Verdict.VALID
    assert scan(flow, before.verify_url).verdict == Verdict.VALID


def test_scans_read_with_the_verdict_include_earlier_hours(flow: Any) -> None:
    _, issued = flow.certified()
    hour = scans.hour_of(utcnow())
    with write(flow.db):
        flow.db.add(ScanHour(certificate_id=issued.certificate.id, hour=hour, n=3))
        flow.db.add(
            ScanHour(certificate_id=issued.certificate.id, hour=hour.replace(year=2025), n=5)
        )
    seen = scan(flow, issued.verify_url).record.scans
    assert (seen.total, seen.this_hour, seen.busiest) == (8, 3, 5)
    assert seen.first == hour.replace(year=2025)
    after = seen.plus(3, 2)  # three scans not written yet, two of them in this hour
    assert (after.total, after.this_hour, after.busiest) == (11, 5, 5)
    assert len(flow.db.exec(select(ScanHour)).all()) == 2
