"""Issue 18, the consumer's page: tries left after a wrong check code, the lock-out in plain
words, what to do next for each verdict, a claim offered only when it can succeed, the claim's
tracking code kept as a file or a text message, the certificate PDF to keep, a language switch
that is not another scan, and times in China time."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from qc_app import audit
from qc_app.certificates import revocation
from qc_app.config import Config, ConfigError
from qc_app.errors import Conflict
from qc_app.sqltypes import utcnow
from qc_app.units import local_time
from tests.claims_support import Sold, file, sell
from tests.web.helpers import csrf, file_claim, login, qr_path, typed

pytestmark = pytest.mark.usefixtures("cjk_font_path")

SHANGHAI = ZoneInfo("Asia/Shanghai")


def register(client: Any, sold: Sold, code: str) -> Any:
    return client.post(
        f"/v/{sold.number}/owner",
        data={"csrf_token": csrf(client, "/verify"), "check_code": code},
    )


# -- wrong codes -------------------------------------------------------------------------------


def test_a_wrong_code_says_how_many_tries_are_left(
    tmp_path: Path, app: Flask, flow: Any, limited_app: Any
) -> None:
    sold = sell(flow)
    client = limited_app(tmp_path, app, "memory://").test_client()  # 3 per number
    first = typed(client, sold.number, "WRONG-CODE")
    assert first.status_code == 404
    assert "还可以再试 2 次" in first.get_data(as_text=True)
    typed(client, sold.number, "WRONG-CODE")
    last = typed(client, sold.number, "WRONG-CODE").get_data(as_text=True)
    assert 'id="tries-left"' in last and "尝试次数已用完" in last


def test_the_lock_out_page_says_in_words_how_long_to_wait(
    tmp_path: Path, app: Flask, flow: Any, limited_app: Any
) -> None:
    sold = sell(flow)
    client = limited_app(tmp_path, app, "memory://").test_client()
    for _ in range(3):
        typed(client, sold.number, "WRONG-CODE")
    locked = typed(client, sold.number, sold.issued.check_code)
    page = locked.get_data(as_text=True)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "<title>请稍后再试</title>" in page and "429" not in page
    assert re.search(r"请在 \d+ (分钟|秒)后再试", page)


def test_a_wrong_code_to_register_ownership_says_the_tries_left_too(
    tmp_path: Path, app: Flask, flow: Any, limited_app: Any
) -> None:
    sold = sell(flow)
    client = limited_app(tmp_path, app, "memory://").test_client()
    page = register(client, sold, "WRONG-CODE").get_data(as_text=True)
    assert "未找到证书（请核对证书编号和校验码）" in page and "还可以再试 2 次" in page


# -- what to do next ---------------------------------------------------------------------------


def test_a_genuine_certificate_says_to_compare_the_piece_and_register(
    client: Any, flow: Any
) -> None:
    page = client.get(qr_path(sell(flow))).get_data(as_text=True)
    assert 'id="next-steps"' in page and "核对照片、质量和封签号" in page and "登记为物主" in page


def test_a_revoked_certificate_says_not_to_buy(client: Any, flow: Any) -> None:
    sold = sell(flow)
    revocation.revoke(
        session=flow.db, actor=flow.world["admin1"], number=sold.number, reason="错印", now=utcnow()
    )
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert "尚未购买请不要购买" in page


def test_a_forged_code_says_not_to_accept_and_where_to_complain(client: Any, flow: Any) -> None:
    sold = sell(flow)
    forged = qr_path(sold)[:-6] + "AAAAAA"
    page = client.get(forged).get_data(as_text=True)
    assert "伪造的二维码" in page and "请勿签收或付款" in page and "向购买平台投诉" in page


def test_an_unknown_code_says_to_check_it_and_scan_instead(client: Any, flow: Any) -> None:
    page = typed(client, sell(flow).number, "WRONG-CODE").get_data(as_text=True)
    assert "注意数字 0 和字母 O" in page and "可能是伪造的" in page


# -- the claim, only when it can succeed -------------------------------------------------------


def test_after_a_claim_the_page_offers_its_tracking_not_another_claim(
    client: Any, flow: Any
) -> None:
    sold = sell(flow)
    file(flow, sold)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert 'id="claim-link"' not in page and 'id="track-link"' in page
    assert "已申请理赔" in page and "每笔订单最多赔付一次" in page


def test_a_second_claim_is_refused_with_the_words_the_page_shows(flow: Any) -> None:
    sold = sell(flow)
    file(flow, sold)
    with pytest.raises(Conflict) as refused:
        file(flow, sold)
    assert refused.value.status == 409 and refused.value.code == "claimed"
    assert "每笔订单最多赔付一次" in refused.value.message.render("zh")


def test_the_tracking_code_can_be_kept_as_a_file_or_a_text_message(client: Any, flow: Any) -> None:
    page = file_claim(client, sell(flow)).get_data(as_text=True)
    secret = re.search(r'id="claim-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    download = re.search(r'id="download-secret" download="([^"]+)" href="([^"]+)"', page)
    assert download and download.group(1).endswith(".txt")
    assert download.group(2).startswith("data:text/plain;charset=utf-8,")
    assert secret in unquote(download.group(2)) and "/claims/track" in unquote(download.group(2))
    sms = re.search(r'<textarea id="sms-text"[^>]*>([^<]+)</textarea>', page)
    assert sms and secret in sms.group(1)
    assert 'id="sms-link" href="sms:?&amp;body=' in page


# -- the certificate PDF -----------------------------------------------------------------------


def test_the_consumer_downloads_the_very_pdf_that_was_signed(client: Any, flow: Any) -> None:
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    href = re.search(r'id="certificate-pdf" href="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.get(href.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    digest = hashlib.sha256(response.data).hexdigest()
    assert digest == sold.issued.certificate.pdf_sha256


def test_a_forged_code_gets_no_pdf(client: Any, flow: Any) -> None:
    sold = sell(flow)
    path, _, query = qr_path(sold).partition("?")
    assert client.get(f"{path}/certificate.pdf?{query[:-6]}AAAAAA").status_code == 404


# -- another language is not another scan ------------------------------------------------------


def test_switching_language_is_not_counted_as_a_scan(client: Any, flow: Any) -> None:
    path = qr_path(sell(flow))
    assert "这是该证书首次被消费者查验" in client.get(path).get_data(as_text=True)
    english = client.get(path + "&lang=en").get_data(as_text=True)
    assert "the first time" in english
    again = client.get(path + "&lang=zh").get_data(as_text=True)
    assert "这是该证书首次被消费者查验" in again


def test_a_result_reached_by_the_check_code_switches_language_on_the_qr_page(
    client: Any, flow: Any
) -> None:
    sold = sell(flow)
    page = typed(client, sold.number, sold.issued.check_code).get_data(as_text=True)
    qr = qr_path(sold).replace("&", "&amp;")
    assert f'href="{qr}&amp;lang=en"' in page and sold.issued.check_code not in qr


# -- China time --------------------------------------------------------------------------------


def test_times_are_shown_in_the_configured_zone() -> None:
    evening = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    assert local_time(evening, SHANGHAI) == "2026-11-22 01:30"
    assert local_time(evening.replace(tzinfo=None), SHANGHAI, "%Y-%m-%d") == "2026-11-22"


def test_the_zone_is_shanghai_unless_qc_timezone_names_another(tmp_path: Path) -> None:
    secrets = {name: "x" * 40 for name in ("SECRET_KEY", "QC_KEY_PASSPHRASE", "QC_CHECK_CODE_KEY")}
    env = {"QC_INSTANCE_PATH": str(tmp_path), **secrets}
    assert Config.from_env(env).TIMEZONE == "Asia/Shanghai"
    assert Config.from_env(env | {"QC_TIMEZONE": "Asia/Hong_Kong"}).zone.key == "Asia/Hong_Kong"
    with pytest.raises(ConfigError, match="QC_TIMEZONE"):
        Config.from_env(env | {"QC_TIMEZONE": "Mars/Olympus"})


def test_the_consumer_page_and_the_certificate_agree_on_the_issue_date(
    client: Any, flow: Any
) -> None:
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    issued = sold.issued.certificate.issued_at
    assert f"<dd>{issued.astimezone(SHANGHAI):%Y-%m-%d}</dd>" in page


def test_the_item_timeline_shows_china_time(client: Any, flow: Any) -> None:
    sold = sell(flow)
    login(client, "merchant1")
    page = client.get(f"/items/{sold.item.code}").get_data(as_text=True)
    declared = audit.history(flow.db, entity="item", entity_id=sold.item.code)[0].at
    assert "(UTC)" not in page
    assert f"<td>{declared.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}</td>" in page


# -- scripts/serve ---------------------------------------------------------------------------


def test_the_demo_urls_are_printed_on_every_start(app: Flask) -> None:
    runner = app.test_cli_runner()
    with app.app_context():  # the `flask` command pushes one for every command
        first = runner.invoke(args=["qc", "demo"])
    with app.app_context():
        again = runner.invoke(args=["qc", "demo"])
    assert first.exit_code == again.exit_code == 0, first.output
    for shown in ("/login", "/m/listings", "/v/GTC-", "check code", "DY202611220003"):
        assert shown in first.output and shown in again.output
    assert "otpauth://" not in again.output  # the secrets are printed once, at creation


# -- the icon ----------------------------------------------------------------------------------


def test_the_site_has_a_favicon(client: Any) -> None:
    response = client.get("/favicon.ico")
    icon = response.data
    response.close()
    assert response.status_code == 200 and icon[:4] == b"\x00\x00\x01\x00"
