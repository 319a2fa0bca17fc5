"""The consumer's page and the claim path through the test client: scan counter, seal number,
check-code budgets (memory and the real Redis), filing, following and deciding a claim."""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from qc_app import storage
from qc_app.certificates.models import CertificateStatus
from qc_app.claims import services
from qc_app.claims.models import Claim, Evidence
from qc_app.config import Config
from qc_app.db import write
from qc_app.sqltypes import utcnow
from qc_app.verification.scans import ScanHour
from tests.claims_support import Sold, accept, file, sell
from tests.conftest import HTML_PAGE, SVG_IMAGE, jpeg_bytes, jpeg_html_polyglot, stored_files
from tests.evidence_pdfs import ATTACKS, lab_report
from tests.web.helpers import (
    claim_url,
    client_at,
    csrf,
    file_claim,
    login,
    post_form,
    qr_path,
    type_code,
    typed,
)

pytestmark = pytest.mark.usefixtures("cjk_font_path")


@pytest.fixture
def sold(flow: Any) -> Sold:
    return sell(flow)


def test_page_shows_seal_number_guarantee_and_counts_consumer_scans(
    client: Any, sold: Sold
) -> None:
    first = client.get(qr_path(sold)).get_data(as_text=True)
    assert sold.order.seal_no in first
    assert "克重、产地、品种、皮色" in first and "10 倍" in first
    assert "首次被消费者查验" in first or "已被消费者查验 1 次" in first
    second = client.get(qr_path(sold)).get_data(as_text=True)
    assert "已被消费者查验 2 次" in second


@pytest.mark.parametrize("username", ["inspector1", "merchant1", "admin1"])
def test_staff_and_merchant_scans_do_not_count(
    app: Flask, db: Any, sold: Sold, username: str
) -> None:
    client = app.test_client()
    login(client, username)
    client.get(qr_path(sold))
    client.get(qr_path(sold))
    assert db.exec(select(ScanHour)).all() == []


def test_burst_of_scans_warns_of_a_copied_code(app: Flask, client: Any, sold: Sold) -> None:
    app.config["QC"].SCAN_THRESHOLDS = (50, 3, 90)
    for _ in range(3):
        assert "查验异常频繁" not in client.get(qr_path(sold)).get_data(as_text=True)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert "查验异常频繁" in page and "短时间内被集中查验" in page


def test_scans_long_after_the_first_warn(client: Any, db: Any, sold: Sold) -> None:
    long_ago = (utcnow() - timedelta(days=120)).replace(
        minute=0, second=0, microsecond=0, tzinfo=None
    )
    with write(db):
        db.add(ScanHour(certificate_id=sold.issued.certificate.id, hour=long_ago, n=1))
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert "已被消费者查验 2 次" in page and "理赔期过后仍被查验" in page


def test_english_page(client: Any, sold: Sold) -> None:
    page = client.get(qr_path(sold) + "&lang=en").get_data(as_text=True)
    assert "Genuine" in page or "genuine" in page.lower()
    assert "weight, origin, variety, skin colour" in page


# -- rate limits and check-code budgets -----------------------------------------------------------


@pytest.fixture
def memory_app(tmp_path: Path, app: Flask, limited_app: Callable[..., Flask]) -> Flask:
    # Same database as `app` (already migrated and seeded by `world`), limits on, memory storage.
    return limited_app(tmp_path, app, "memory://")


def test_wrong_codes_spend_this_clients_budget_for_the_number_only(
    memory_app: Flask, sold: Sold
) -> None:
    guesser = client_at(memory_app, "10.0.0.66")
    assert [type_code(guesser, sold.number, "WRONG-CODE") for _ in range(3)] == [404, 404, 404]
    # The guesser's budget for this number is spent: even the right code now gets 429 there...
    assert type_code(guesser, sold.number, sold.issued.check_code) == 429
    # ...but the owner, on a connection of their own, is not locked out of their certificate.
    owner = client_at(memory_app, "10.0.0.7")
    assert type_code(owner, sold.number, sold.issued.check_code) == 200


def test_the_same_number_typed_differently_draws_on_one_budget(
    memory_app: Flask, sold: Sold
) -> None:
    """The budget is keyed on the number as the lookup reads it: inner spaces, lower case and
    look-alike letters are the same number, not a fresh budget each."""
    guesser = client_at(memory_app, "10.0.0.66")
    prefix, body = sold.number.split("-")
    variants = [sold.number.lower(), f" {prefix} - {body[:6]} {body[6:]} ", f"{prefix}-{body}"]
    assert [type_code(guesser, v, "WRONG-CODE") for v in variants] == [404, 404, 404]
    assert type_code(guesser, sold.number.lower(), sold.issued.check_code) == 429


def test_the_429_page_says_how_long_to_wait(memory_app: Flask, sold: Sold) -> None:
    guesser = client_at(memory_app, "10.0.0.66")
    for _ in range(3):
        typed(guesser, sold.number, "WRONG-CODE")
    refused = typed(guesser, sold.number, sold.issued.check_code)
    wait = int(refused.headers["Retry-After"])
    assert refused.status_code == 429 and 3500 <= wait <= 3600  # the hour's window
    page = refused.get_data(as_text=True)
    assert "请稍后再试" in page and f"请在 {math.ceil(wait / 60)} 分钟后再试" in page
    english = guesser.post(
        "/verify?lang=en",
        data={"csrf_token": csrf(guesser, "/verify"), "number": sold.number, "check_code": "X"},
    )
    assert "Please try again in 60 minutes." in english.get_data(as_text=True)


def test_unknown_numbers_spend_the_clients_budget(memory_app: Flask, sold: Sold) -> None:
    client = client_at(memory_app, "10.0.0.66")
    made_up = [f"GTC-{uuid.uuid4().hex[:13].upper()}" for _ in range(5)]
    assert {type_code(client, n, "AAAA-BBBB") for n in made_up} == {404}
    assert type_code(client, sold.number, sold.issued.check_code) == 429
    assert type_code(client_at(memory_app, "10.0.0.7"), sold.number, sold.issued.check_code) == 200


def test_right_code_costs_nothing(memory_app: Flask, sold: Sold) -> None:
    client = memory_app.test_client()
    assert {type_code(client, sold.number, sold.issued.check_code) for _ in range(8)} == {200}


def test_budget_holds_across_workers_with_redis(
    tmp_path: Path, app: Flask, sold: Sold, redis_url: str, limited_app: Callable[..., Flask]
) -> None:
    worker_a = limited_app(tmp_path / "a", app, redis_url)
    worker_b = limited_app(tmp_path / "b", app, redis_url)
    worker_b.config["RATELIMIT_KEY_PREFIX"] = worker_a.config["RATELIMIT_KEY_PREFIX"]
    guesses = [type_code(client_at(worker_a, "10.0.0.66"), sold.number, "W") for _ in range(3)]
    assert guesses == [404] * 3
    assert type_code(client_at(worker_b, "10.0.0.66"), sold.number, sold.issued.check_code) == 429
    assert type_code(client_at(worker_b, "10.0.0.7"), sold.number, sold.issued.check_code) == 200


def test_public_page_limit_holds_across_workers_with_redis(
    tmp_path: Path, app: Flask, sold: Sold, redis_url: str, limited_app: Callable[..., Flask]
) -> None:
    workers = [
        limited_app(tmp_path / w, app, redis_url, PUBLIC_RATE_LIMIT="4/minute") for w in "ab"
    ]
    workers[1].config["RATELIMIT_KEY_PREFIX"] = workers[0].config["RATELIMIT_KEY_PREFIX"]
    responses = [workers[i % 2].test_client().get(qr_path(sold)) for i in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    wait = int(responses[-1].headers["Retry-After"])
    assert 0 < wait <= 60
    assert "秒后再试" in responses[-1].get_data(as_text=True)


def test_config_uses_redis_when_redis_url_is_set() -> None:
    env = {"SECRET_KEY": "x" * 40, "QC_KEY_PASSPHRASE": "y" * 40, "QC_CHECK_CODE_KEY": "z" * 40}
    env["REDIS_URL"] = "redis://r:6379/0"
    assert Config.from_env(env).RATELIMIT_STORAGE_URI == "redis://r:6379/0"
    del env["REDIS_URL"]
    assert Config.from_env(env).RATELIMIT_STORAGE_URI == "memory://"


# -- claims through the pages --------------------------------------------------------------------


def test_consumer_files_and_follows_a_claim(client: Any, db: Any, sold: Sold) -> None:
    response = file_claim(client, sold)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:800]
    claim = db.exec(select(Claim)).one()
    assert claim.postage_fen == 1250 and claim.reason == "brand"
    secret = page.split('id="claim-secret">')[1].split("<")[0]
    followed = post_form(
        client, "/claims/track", "/claims/track", {"number": claim.number, "secret": secret}
    )
    assert "已提交，待商家答复" in followed.get_data(as_text=True)
    wrong = post_form(
        client, "/claims/track", "/claims/track", {"number": claim.number, "secret": "x"}
    )
    assert wrong.status_code == 404


def test_out_of_scope_reason_is_explained(client: Any, db: Any, sold: Sold) -> None:
    response = file_claim(client, sold, reason="origin")
    assert response.status_code == 200
    assert "产地" in response.get_data(as_text=True) and "不在保障范围内" in response.get_data(
        as_text=True
    )
    assert db.exec(select(Claim)).all() == []


def test_wrong_order_number_keeps_the_form_and_says_so(client: Any, db: Any, sold: Sold) -> None:
    response = file_claim(client, sold, order_no="NOT-MINE")
    assert response.status_code == 404
    assert "专柜说不是该品牌" in response.get_data(as_text=True)


def test_claim_with_an_active_pdf_is_refused_and_nothing_is_stored(
    app: Flask, client: Any, db: Any, sold: Sold
) -> None:
    report, _reason = ATTACKS["submit-form-button"]
    response = file_claim(
        client,
        sold,
        evidence=[(io.BytesIO(jpeg_bytes()), "photo.jpg"), (io.BytesIO(report()), "报告.pdf")],
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "PDF 证据无效：含有向外提交表单的动作" in page
    assert "专柜说不是该品牌" in page  # the form is kept
    assert db.exec(select(Claim)).all() == []
    assert stored_files(app).list("evidence") == []


def test_claim_form_states_what_a_pdf_may_not_carry(client: Any, sold: Sold) -> None:
    url = claim_url(client, sold)
    assert "PDF 报告须不含脚本、链接、附件" in client.get(url).get_data(as_text=True)
    english = client.get(url + "&lang=en").get_data(as_text=True)
    assert "A PDF report must carry no scripts, links, attachments" in english


@pytest.mark.parametrize("upload", [HTML_PAGE, SVG_IMAGE], ids=["html-as-jpg", "svg-as-jpg"])
def test_evidence_neither_image_nor_pdf_is_refused(
    app: Flask, client: Any, db: Any, sold: Sold, upload: bytes
) -> None:
    response = file_claim(client, sold, evidence=(io.BytesIO(upload), "photo.jpg"))
    assert response.status_code == 422
    assert "照片须为 JPEG、PNG 或 WebP 图片" in response.get_data(as_text=True)
    assert db.exec(select(Claim)).all() == []
    assert stored_files(app).list("evidence") == []


def test_polyglot_evidence_is_stored_re_encoded(
    app: Flask, client: Any, db: Any, sold: Sold
) -> None:
    response = file_claim(client, sold, evidence=(io.BytesIO(jpeg_html_polyglot()), "photo.jpg"))
    assert response.status_code == 200
    [row] = db.exec(select(Evidence)).all()
    kept = storage.load(stored_files(app), "evidence", row.sha256, ".jpg")
    assert row.kind == "jpg" and kept.startswith(b"\xff\xd8") and b"<script" not in kept


def test_pdf_named_as_a_photo_is_kept_as_a_pdf(
    app: Flask, client: Any, db: Any, sold: Sold
) -> None:
    report = lab_report()
    assert file_claim(client, sold, evidence=(io.BytesIO(report), "photo.jpg")).status_code == 200
    [row] = db.exec(select(Evidence)).all()
    kept = storage.load(stored_files(app), "evidence", row.sha256, ".pdf")
    assert (row.kind, kept) == ("pdf", report)


def test_merchant_answers_and_admin_upholds_on_the_pages(app: Flask, db: Any, sold: Sold) -> None:
    file_claim(app.test_client(), sold)
    claim = db.exec(select(Claim)).one()
    merchant = app.test_client()
    login(merchant, "merchant1")
    detail = f"/claims/{claim.number}"
    assert merchant.get("/claims").status_code == 200
    post_form(merchant, detail, f"{detail}/answer", {"answer": "accept", "note": "认可"})
    other = app.test_client()
    login(other, "merchant2")
    assert other.get(detail).status_code == 404
    admin = app.test_client()
    login(admin, "admin1")
    asked = {"decision": "uphold", "postage_yuan": "12.50"}
    confirming = post_form(admin, detail, f"{detail}/decide", asked)
    assert confirming.status_code == 200 and "¥33,012.50" in confirming.get_data(as_text=True)
    post_form(admin, detail, f"{detail}/decide", {**asked, "confirm": "1", "note": "鉴定报告属实"})
    db.rollback()  # end the test session's read snapshot: the pages wrote since
    decided = db.exec(select(Claim)).one()
    db.refresh(decided)
    assert decided.state == "upheld" and decided.payout_fen == 300000 * 11 + 1250
    db.refresh(sold.issued.certificate)
    assert sold.issued.certificate.status == CertificateStatus.REVOKED
    assert "证书已吊销" in app.test_client().get(qr_path(sold)).get_data(as_text=True)
    files = admin.get(detail).get_data(as_text=True)
    link = files.split("/evidence/")[1].split('"')[0]
    served = admin.get(f"{detail}/evidence/{link}")
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"Exif" not in served.data[:200]


@pytest.mark.parametrize(
    ("username", "action", "form"),
    [
        ("merchant1", "answer", {"note": "附出货检测报告"}),  # read as a dispute before
        ("admin1", "decide", {"ground": "insufficient_evidence"}),  # read as a rejection before
    ],
)
def test_a_post_without_the_pressed_button_is_refused(
    app: Flask, flow: Any, db: Any, sold: Sold, username: str, action: str, form: dict[str, str]
) -> None:
    number = file(flow, sold).claim.number
    if username == "admin1":  # the platform decides once the merchant has answered
        accept(flow, number)
    before = db.exec(select(Claim)).one().state
    client = app.test_client()
    login(client, username)
    detail = f"/claims/{number}"
    response = post_form(client, detail, f"{detail}/{action}", form)
    assert response.status_code == 422
    assert "请选择" in response.get_data(as_text=True)
    db.rollback()
    assert db.exec(select(Claim)).one().state == before


def test_claim_pages_show_each_amount_with_one_yuan_sign(
    app: Flask, flow: Any, db: Any, sold: Sold
) -> None:
    filed = file(flow, sold)  # ¥3,000.00 paid, ¥12.00 postage
    accept(flow, filed.claim.number)
    services.decide(
        session=db,
        actor=flow.world["admin1"],
        number=filed.claim.number,
        uphold=True,
        note="",
        now=utcnow(),
    )
    consumer = app.test_client()
    tracked = post_form(
        consumer,
        "/claims/track",
        "/claims/track",
        {"number": filed.claim.number, "secret": filed.secret},
    )
    pages = [tracked.get_data(as_text=True)]
    for username in ("merchant1", "admin1"):
        staff = app.test_client()
        login(staff, username)
        pages.append(staff.get(f"/claims/{filed.claim.number}").get_data(as_text=True))
    for page in pages:
        assert "¥¥" not in page
        for amount in ("¥3,000.00", "¥30,000.00", "¥12.00", '"payout">¥33,012.00<'):
            assert amount in page


def test_unknown_numbers_on_the_api_spend_the_same_budget(memory_app: Flask, sold: Sold) -> None:
    client = memory_app.test_client()
    made_up = [f"GTC-{uuid.uuid4().hex[:13].upper()}" for _ in range(5)]
    assert {client.get(f"/api/v1/certificates/{n}").status_code for n in made_up} == {404}
    refused = client.get(f"/api/v1/certificates/{sold.number}")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
