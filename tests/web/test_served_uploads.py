"""security.md §8 check 19, the serving half: every stored upload (intake, merchant and
certificate photos, claim evidence) comes back with a fixed type, nosniff and a sandbox that
loads nothing, so no browser ever runs one as a page of ours; an evidence PDF is a download."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from qc_app.claims.models import Claim, Evidence
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Photo
from qc_app.sqltypes import utcnow
from tests.claims_support import sell
from tests.conftest import Flow, jpeg_html_polyglot, stored_files
from tests.evidence_pdfs import lab_report
from tests.web.helpers import file_claim, login, qr_path

pytestmark = pytest.mark.usefixtures("cjk_font_path")
SANDBOX = "default-src 'none'; sandbox"


@dataclass
class Served:
    """Where each kind of upload is served, and a client allowed to fetch it."""

    urls: dict[str, str]
    merchant: Any
    public: Any
    report: bytes  # the evidence PDF as uploaded


@pytest.fixture
def served(app: Flask, db: Any, flow: Flow) -> Served:
    sold = sell(flow)  # received with a photo, certified with it, sold and delivered
    declared = create_consignment(
        session=db,
        actor=flow.world["merchant1"],
        items=[
            {
                "listing_id": flow.world.listing_gold.id,
                "mass_g": "5.02",
                "photo": jpeg_html_polyglot(),
            }
        ],
        now=utcnow(),
        files=stored_files(app),
    )
    [own_photo_item] = consignment_items(session=db, consignment=declared)
    public = app.test_client()
    report = lab_report()
    filed = file_claim(
        public,
        sold,
        evidence=[(io.BytesIO(jpeg_html_polyglot()), "a.jpg"), (io.BytesIO(report), "b.pdf")],
    )
    assert filed.status_code == 200, filed.get_data(as_text=True)[:500]
    db.rollback()  # the pages wrote since the fixture's snapshot
    claim = db.exec(select(Claim)).one()
    evidence = {row.kind: row.id for row in db.exec(select(Evidence))}
    photos = {p.kind: p for p in db.exec(select(Photo))}
    page = public.get(qr_path(sold)).get_data(as_text=True)
    certificate_photo = re.search(r'class="photo"[^>]* src="([^"]+)"', page)
    assert certificate_photo
    merchant = app.test_client()
    login(merchant, "merchant1")
    return Served(
        urls={
            "intake-photo": f"/items/{sold.item.code}/photos/{photos['intake'].sha256}.jpg",
            "merchant-photo": f"/items/{own_photo_item.code}/photos/"
            f"{photos['merchant'].sha256}.jpg",
            "certificate-photo": html.unescape(certificate_photo.group(1)),
            "evidence-photo": f"/claims/{claim.number}/evidence/{evidence['jpg']}",
            "evidence-pdf": f"/claims/{claim.number}/evidence/{evidence['pdf']}",
        },
        merchant=merchant,
        public=public,
        report=report,
    )


def test_every_served_photo_is_a_sandboxed_jpeg(served: Served) -> None:
    """One fixture (a sale, a claim) serves all four; each is checked and reported by name."""
    seen = {}
    for upload in ("intake-photo", "merchant-photo", "certificate-photo", "evidence-photo"):
        client = served.public if upload == "certificate-photo" else served.merchant
        response = client.get(served.urls[upload])
        seen[upload] = (
            response.status_code,
            response.headers["Content-Type"],
            response.headers["X-Content-Type-Options"],
            response.headers["Content-Security-Policy"],
            response.data.startswith(b"\xff\xd8") and b"<script" not in response.data,
        )
    expected = (200, "image/jpeg", "nosniff", SANDBOX, True)
    assert seen == dict.fromkeys(seen, expected)


def test_served_evidence_pdf_is_a_sandboxed_download(served: Served) -> None:
    response = served.merchant.get(served.urls["evidence-pdf"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == SANDBOX
    assert response.data == served.report
