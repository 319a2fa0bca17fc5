"""The consumer's page through the test client: the guarantee card only when the order is
covered, and the page's one query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import event

from qc_app.certificates import services as certificates
from qc_app.db import engine_of
from qc_app.sqltypes import utcnow
from qc_app.verification import services
from tests.claims_support import Sold, sell

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def qr_path(sold: Sold) -> str:
    parts = urlsplit(sold.issued.verify_url)
    return f"{parts.path}?{parts.query}"


# -- the guarantee card ---------------------------------------------------------------------


def test_covered_order_shows_the_programme_card_and_the_claim_button(
    client: Any, flow: Any
) -> None:
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert 'id="guarantee"' in page and "假一赔十" in page and 'id="claim-link"' in page
    until = (sold.order.delivered_at + timedelta(days=90)).strftime("%Y-%m-%d")
    assert f"（至 {until}）" in page and 'id="no-guarantee"' not in page


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda flow: sell(flow, labelled=False), "下单时该店铺未开通保障服务"),
        (lambda flow: sell(flow, delivered=False), "订单尚未签收"),
        (lambda flow: sell(flow, delivered_at=utcnow() - timedelta(days=91)), "理赔期已过"),
    ],
    ids=["shop never joined", "not delivered", "window closed"],
)
def test_uncovered_order_says_why_and_offers_no_claim(
    client: Any, flow: Any, make: Any, words: str
) -> None:
    page = client.get(qr_path(make(flow))).get_data(as_text=True)
    assert 'id="no-guarantee"' in page and words in page
    assert 'id="guarantee"' not in page and 'id="claim-link"' not in page


def test_revoked_certificate_offers_no_claim(client: Any, flow: Any) -> None:
    sold = sell(flow)
    certificates.revoke(
        session=flow.db, actor=flow.world["admin1"], number=sold.number, reason="错印", now=utcnow()
    )
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert "证书已吊销，不能再凭它申请理赔" in page and 'id="claim-link"' not in page


def test_uncovered_in_english(client: Any, flow: Any) -> None:
    page = client.get(qr_path(sell(flow, labelled=False)) + "&lang=en").get_data(as_text=True)
    assert "No guarantee applies" in page and "had not joined the guarantee" in page


def test_the_page_is_one_query(
    app: Flask, client: Any, flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything the page shows, coverage included, comes from one SELECT (the scan tally's
    write is no SELECT)."""
    sold = sell(flow)
    monkeypatch.setattr(services, "KEYS_MAX_AGE_S", 3600.0)  # the keys stay cached meanwhile
    client.get(qr_path(sold))  # warm: reads the public keys
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(qr_path(sold)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "FROM certificates c" in reads[0], statements
