"""The demo data `scripts/serve` loads: what the README promises can be tried at once."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlmodel import Session, select

from qc_app.claims.models import Claim
from qc_app.demo import load_demo
from tests.conftest import jpeg_bytes, stored_files
from tests.web.helpers import post_form

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def test_delivered_demo_ring_can_be_verified_and_claimed(app: Flask, db: Session) -> None:
    created = load_demo(session=db, config=app.config["QC"], files=stored_files(app))
    assert created is not None and len(created.certificates) == 2
    assert (
        load_demo(session=db, config=app.config["QC"], files=stored_files(app)) is None
    )  # only into an empty database
    delivered = created.certificates[1]
    assert "DY202611220003" in delivered
    url = urlsplit(re.search(r"(/v/\S+)", delivered).group(1))  # type: ignore[union-attr]
    client = app.test_client()
    page = client.get(f"{url.path}?{url.query}").get_data(as_text=True)
    assert "真实有效" in page and "FQ00000003" in page and "假一赔十" in page
    claim_href = page.split('id="claim-link" href="')[1].split('"')[0].replace("&amp;", "&")
    path, query = urlsplit(claim_href).path, parse_qs(urlsplit(claim_href).query)
    response = post_form(
        client,
        claim_href,
        path,
        {
            "k": query["k"][0],
            "s": query["s"][0],
            "order_no": "DY202611220003",
            "reason": "material",
            "description": "送检结果不是足金",
            "postage_yuan": "10",
            "evidence": (io.BytesIO(jpeg_bytes()), "report.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    assert "理赔已提交" in response.get_data(as_text=True)
    db.rollback()  # end the test session's read snapshot; the page committed the claim
    claim = db.exec(select(Claim)).one()
    assert claim.reason == "material" and claim.postage_fen == 1000
