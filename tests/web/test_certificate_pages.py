"""Batch issuance, reissue and the superseded verdict through the pages and the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qc_app.certificates import lookup
from qc_app.certificates.models import CertificateStatus
from tests.web.helpers import login, post_form

pytestmark = [pytest.mark.cjk_font, pytest.mark.usefixtures("cjk_font_path")]


def approved(flow: Any, count: int) -> list[str]:
    codes = []
    for _ in range(count):
        item = flow.declare()
        flow.receive(item)
        flow.approve(flow.inspect(item))
        codes.append(item.code)
    return codes


def test_batch_page_starts_the_job_and_reads_its_progress(app: Any, flow: Any) -> None:
    """The queue runs in the request here (immediate mode): the job is done by the redirect,
    and the page and its status URL read what it wrote. tests/integration/test_queue.py runs
    it on real workers."""
    codes = approved(flow, 3)
    client = app.test_client()
    login(client, "inspector1")
    form = client.get("/certify/batch").get_data(as_text=True)
    assert all(code in form for code in codes)
    started = post_form(client, "/certify/batch", "/certify/batches", {"code": codes})
    assert started.status_code == 302
    page_url = started.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    status_url = re.search(r'data-status-url="([^"]+)"', page).group(1)
    status = client.get(status_url, headers={"Accept": "application/json"}).get_json()
    assert status["issued"] == 3 and status["failed"] == 0 and status["finished"]
    for number in status["certificates"].values():
        assert number in page


def test_batch_resume_needs_the_csrf_token(app: Any, flow: Any) -> None:
    codes = approved(flow, 1)
    client = app.test_client()
    login(client, "inspector1")
    started = post_form(client, "/certify/batch", "/certify/batches", {"code": codes})
    answer = client.post(started.headers["Location"] + "/resume")
    assert answer.status_code in (400, 403)


def test_batch_pages_are_closed_to_merchants(app: Any, flow: Any) -> None:
    client = app.test_client()
    login(client, "merchant1")
    assert client.get("/certify/batch").status_code in (302, 403)


def test_batch_pages_are_closed_to_admins(app: Any, flow: Any) -> None:
    """Only the issue_certificate transition's roles: an admin's batch would fail every item."""
    client = app.test_client()
    login(client, "admin1")
    assert client.get("/certify/batch").status_code == 403


def test_admin_reissues_on_the_web_and_the_old_code_shows_superseded(
    app: Any, db: Any, flow: Any
) -> None:
    _, issued = flow.certified()
    old = issued.certificate
    client = app.test_client()
    login(client, "admin1")
    answer = post_form(
        client,
        "/admin/certificates",
        f"/admin/certificates/{old.number}/reissue",
        {"confirm": "1", "note": "商品标题错误"},
    )
    assert answer.status_code == 302  # to the job's page: the issuance tier signs
    answer = client.get(answer.headers["Location"])
    assert answer.status_code == 200
    db.expire_all()
    refreshed = lookup.find(db, old.number)
    assert refreshed.status == CertificateStatus.REVOKED and refreshed.superseded_by
    assert refreshed.superseded_by in answer.get_data(as_text=True)
    public = app.test_client()
    page = public.get(f"/v/{old.number}?k={old.kid}&s={old.url_signature}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="verdict superseded"' in text
    link = re.search(r'id="replacement" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    new_page = public.get(link).get_data(as_text=True)
    assert 'class="verdict valid"' in new_page


@pytest.mark.parametrize(
    ("lang", "valid", "revoked"), [("zh", "有效", "已吊销"), ("en", "Valid", "Revoked")]
)
def test_admin_page_names_each_status_in_the_readers_language(
    app: Any, flow: Any, lang: str, valid: str, revoked: str
) -> None:
    _, kept = flow.certified()
    _, gone = flow.certified()
    client = app.test_client()
    login(client, "admin1")
    post_form(
        client,
        "/admin/certificates",
        f"/admin/certificates/{gone.certificate.number}/revoke",
        {"confirm": "1", "note": "照片与实物不符"},
    )
    page = client.get(f"/admin/certificates?lang={lang}").get_data(as_text=True)
    rows = {
        n: re.search(rf"{n}</a></td><td>[^<]*</td>\s*<td>([^<:]*)", page).group(1)
        for n in (kept.certificate.number, gone.certificate.number)
    }
    assert rows == {kept.certificate.number: valid, gone.certificate.number: revoked}


def test_api_reissue(client: Any, flow: Any, token: Any, db: Any) -> None:
    _, issued = flow.certified()
    headers = token("admin1")
    db.commit()
    number = issued.certificate.number
    answer = client.post(
        f"/api/v1/certificates/{number}/reissue", json={"reason": "损坏重印"}, headers=headers
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    new = answer.get_json()
    assert new["reissue_of"] == number
    old = client.get(f"/api/v1/certificates/{number}").get_json()
    assert old["status"] == "revoked" and old["superseded_by"] == new["number"]
    again = client.post(
        f"/api/v1/certificates/{number}/reissue", json={"reason": "x"}, headers=headers
    )
    assert again.status_code == 409


def test_api_reissue_is_admin_only(client: Any, flow: Any, token: Any, db: Any) -> None:
    _, issued = flow.certified()
    headers = token("inspector1")
    db.commit()
    answer = client.post(
        f"/api/v1/certificates/{issued.certificate.number}/reissue",
        json={"reason": "x"},
        headers=headers,
    )
    assert answer.status_code == 403


def test_jwks_endpoint_lists_keys_and_the_ca(client: Any, flow: Any) -> None:
    flow.certified()
    document = client.get("/.well-known/jwks.json").get_json()
    assert {k.get("qc_role") for k in document["keys"]} == {None, "pdf-ca"}
