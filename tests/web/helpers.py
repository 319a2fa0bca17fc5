"""Driving the pages as a person would: read the CSRF token from the form, then post it; the
consumer opens the certificate's QR link and files a claim from it."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlmodel import Session

from qc_app.db import write
from qc_app.merchants.models import Merchant
from tests.auth_support import TOTP
from tests.claims_support import Sold
from tests.conftest import PASSWORD, jpeg_bytes


def eligible(db: Session, merchant: Merchant) -> None:
    """The merchant meets every condition of the rights centre (licence, legal rep, category)."""
    with write(db):
        merchant.licence_no = "91440300MA5DEM0019"
        merchant.legal_rep_verified = True
        merchant.categories = "jewelry"
        db.add(merchant)


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client: Any, form_url: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(action, data={"csrf_token": csrf(client, form_url), **data}, **kw)


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def preview_form(page: str) -> dict[str, str]:
    """The hidden fields of a lab preview's confirm form (the typed values, the digest)."""
    start = page.index('class="card confirm"')
    return {name: unescape(value) for name, value in HIDDEN.findall(page[start:])}


def record_by_web(client: Any, code: str, form: dict[str, Any]) -> Any:
    """The analyst's way: submit the lab form (a preview), then 确认记录 on the preview."""
    preview = post_form(client, f"/lab/{code}", f"/lab/{code}", form)
    assert preview.status_code == 200, preview.get_data(as_text=True)[:500]
    carried = preview_form(preview.get_data(as_text=True))
    return client.post(f"/lab/{code}", data={**carried, "action": "confirm"})


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Password, then (staff) the authenticator's code, as a person signs in."""
    response = post_form(client, "/login", "/login", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if response.headers["Location"].endswith("/login/code"):
        response = post_form(client, "/login/code", "/login/code", {"code": TOTP.code(username)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def qr_path(sold: Sold) -> str:
    parts = urlsplit(sold.issued.verify_url)
    return f"{parts.path}?{parts.query}"


def claim_url(client: Any, sold: Sold) -> str:
    page = client.get(qr_path(sold)).get_data(as_text=True)
    start = page.index('id="claim-link" href="') + len('id="claim-link" href="')
    return page[start : page.index('"', start)].replace("&amp;", "&")


def file_claim(client: Any, sold: Sold, reason: str = "brand", **extra: Any) -> Any:
    url = claim_url(client, sold)
    form_page = client.get(url).get_data(as_text=True)
    token = TOKEN.search(form_page)
    assert token
    fields = dict(
        csrf_token=token.group(1),
        k=urlsplit(url).query.split("k=")[1].split("&")[0],
        s=urlsplit(url).query.split("s=")[1].split("&")[0],
        order_no=sold.order.order_no,
        reason=reason,
        description="专柜说不是该品牌",
        postage_yuan="12.50",
        evidence=(io.BytesIO(jpeg_bytes(exif_gps=True)), "photo.jpg"),
    )
    fields.update(extra)
    return client.post(urlsplit(url).path, data=fields, content_type="multipart/form-data")


def client_at(app: Flask, address: str) -> Any:
    """A browser on its own connection (Flask-Limiter tells clients apart by address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def typed(client: Any, number: str, code: str) -> Any:
    token = csrf(client, "/verify")
    return client.post("/verify", data={"csrf_token": token, "number": number, "check_code": code})


def type_code(client: Any, number: str, code: str) -> int:
    return int(typed(client, number, code).status_code)
