"""The consumer's page through the test client: the guarantee card only when the order is
covered, ownership registered once with the check code (security.md §8 check 29), and the
page's one query."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, inspect, select, text
from sqlmodel import Session

from qc_app import audit, create_app
from qc_app.certificates import revocation
from qc_app.certificates.models import Certificate
from qc_app.config import Config
from qc_app.db import engine_of, new_session
from qc_app.sqltypes import utcnow
from qc_app.verification import services
from tests.claims_support import Sold, sell
from tests.web.helpers import csrf

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def qr_path(sold: Sold) -> str:
    parts = urlsplit(sold.issued.verify_url)
    return f"{parts.path}?{parts.query}"


def by_code(client: Any, sold: Sold, code: str | None = None) -> Any:
    return client.post(
        "/verify",
        data={
            "csrf_token": csrf(client, "/verify"),
            "number": sold.number,
            "check_code": sold.issued.check_code if code is None else code,
        },
    )


def register(client: Any, sold: Sold, code: str | None = None) -> Any:
    return client.post(
        f"/v/{sold.number}/owner",
        data={
            "csrf_token": csrf(client, "/verify"),
            "check_code": sold.issued.check_code if code is None else code,
        },
    )


# -- the guarantee card ---------------------------------------------------------------------


def test_covered_order_shows_the_programme_card_and_the_claim_button(
    client: Any, flow: Any
) -> None:
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert 'id="guarantee"' in page and "假一赔十" in page and 'id="claim-link"' in page
    until = (sold.order.delivered_at + timedelta(days=90)).astimezone(ZoneInfo("Asia/Shanghai"))
    until = until.strftime("%Y-%m-%d")
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
    revocation.revoke(
        session=flow.db, actor=flow.world["admin1"], number=sold.number, reason="错印", now=utcnow()
    )
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert "证书已吊销，不能再凭它申请理赔" in page and 'id="claim-link"' not in page


def test_uncovered_in_english(client: Any, flow: Any) -> None:
    page = client.get(qr_path(sell(flow, labelled=False)) + "&lang=en").get_data(as_text=True)
    assert "No guarantee applies" in page and "had not joined the guarantee" in page


def reads(app: Flask, client: Any, path: str) -> tuple[Any, list[str]]:
    """The response to `path` and the SELECTs it ran (the scan tally's write is no SELECT)."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return response, [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_the_page_is_one_query(
    app: Flask, client: Any, flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything the page shows, coverage included, comes from one SELECT."""
    sold = sell(flow)
    monkeypatch.setattr(services, "KEYS_MAX_AGE_S", 3600.0)  # the keys stay cached meanwhile
    client.get(qr_path(sold))  # warm: reads the public keys
    response, selects = reads(app, client, qr_path(sold))
    assert response.status_code == 200
    assert len(selects) == 1 and "FROM certificates c" in selects[0], selects


def test_an_anonymous_scan_costs_no_session_and_no_login_lookup(
    app: Flask, flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: a consumer's scan writes no session (the page carries no form token: the
    owner form is one tap away) and, with the language cookie a consumer keeps, still runs
    the one query: no login lookup."""
    sold = sell(flow)
    monkeypatch.setattr(services, "KEYS_MAX_AGE_S", 3600.0)
    phone = app.test_client()
    first = phone.get(qr_path(sold))
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    chose = phone.get(qr_path(sold) + "&lang=en")  # the language is kept in the session
    assert "Set-Cookie" in chose.headers
    again, selects = reads(app, phone, qr_path(sold))
    assert again.status_code == 200 and "Set-Cookie" not in again.headers
    assert "Owner registration" in again.get_data(as_text=True)  # the kept language
    assert len(selects) == 1 and "FROM certificates c" in selects[0], selects


def test_the_files_behind_a_qr_read_only_what_they_serve(
    app: Flask, client: Any, flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: the PDF and photo routes run one small query each (not the page's, with its
    scan counts and joins) and verify no signature: the link carries the stored one."""
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    photo = html.unescape(re.search(r'class="photo"[^>]* src="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    pdf = html.unescape(re.search(r'id="certificate-pdf" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]

    def no_verifying(*_args: Any, **_kw: Any) -> None:
        raise AssertionError("a file route verified a signature")

    monkeypatch.setattr(services, "_verified", no_verifying)
    for path in (photo, pdf):
        response, selects = reads(app, client, path)
        assert response.status_code == 200, path
        assert len(selects) == 1 and "scan_hours" not in selects[0], selects
        assert "JOIN" not in selects[0].upper(), selects
    forged = pdf.replace("s=", "s=A", 1)
    assert client.get(forged).status_code == 404


# -- ownership registration (check 29) ------------------------------------------------------


def test_owner_registers_with_the_check_code_once(client: Any, flow: Any, db: Session) -> None:
    sold = sell(flow)
    page = by_code(client, sold).get_data(as_text=True)
    assert 'id="register-owner"' in page  # reached by number + code: a button, code carried
    first = register(client, sold)
    assert first.status_code == 200 and "登记成功" in first.get_data(as_text=True)
    stored = db.execute(select(Certificate).where(Certificate.number == sold.number)).scalar_one()
    db.refresh(stored)
    day = stored.owner_registered_at.strftime("%Y-%m-%d")
    second = register(client, sold)
    assert second.status_code == 409
    assert f"该证书已于 {day} 登记过物主" in second.get_data(as_text=True)
    # Anyone scanning later sees that it is registered, and no button.
    later = client.get(qr_path(sold)).get_data(as_text=True)
    assert f"该证书已于 {day} 登记过物主" in later and 'id="register-owner"' not in later
    events = audit.history(db, entity="certificate", entity_id=sold.number)
    assert [e.action for e in events].count("owner_registered") == 1


def test_the_qr_page_asks_for_the_code_to_register(client: Any, flow: Any) -> None:
    sold = sell(flow)
    page = client.get(qr_path(sold)).get_data(as_text=True)
    assert sold.issued.check_code not in page
    # One tap away, so that the page read on every scan carries no form token (no session).
    link = re.search(r'id="register-owner-link" href="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = client.get(html.unescape(link)).get_data(as_text=True)
    assert 'id="owner_code"' in form and sold.issued.check_code not in form
    assert register(client, sold, code="WRONG-CODE").status_code == 404
    assert register(client, sold).status_code == 200


def test_a_revoked_certificate_cannot_be_registered(client: Any, flow: Any) -> None:
    sold = sell(flow)
    revocation.revoke(
        session=flow.db, actor=flow.world["admin1"], number=sold.number, reason="错印", now=utcnow()
    )
    refused = register(client, sold)
    assert refused.status_code == 409 and "证书已吊销，不能登记物主" in refused.get_data(
        as_text=True
    )


def test_parallel_registrations_have_exactly_one_winner(app: Flask, flow: Any) -> None:
    sold = sell(flow)
    key = app.config["QC"].CHECK_CODE_KEY
    threads, outcomes = 12, []
    start = threading.Barrier(threads)

    def one() -> None:
        session = new_session(engine_of(app))
        try:
            start.wait()
            services.register_owner(
                session=session,
                number=sold.number,
                check_code=sold.issued.check_code,
                key=key,
                now=utcnow(),
                zone=app.config["QC"].zone,
            )
            outcomes.append("won")
        except services.AlreadyRegistered:
            outcomes.append("already")
        except Exception as exc:  # reported by the assertion below, not swallowed
            outcomes.append(repr(exc))
        finally:
            session.close()

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert sorted(outcomes) == ["already"] * (threads - 1) + ["won"]
    events = audit.history(flow.db, entity="certificate", entity_id=sold.number)
    assert [e.action for e in events].count("owner_registered") == 1


@pytest.fixture
def default_budgets(tmp_path: Any, app: Flask) -> Any:
    """A worker of `app`'s deployment with the shipped budgets (Config defaults) on."""
    qc = app.config["QC"]
    worker = create_app(
        Config.for_tests(
            tmp_path / "limited",
            engine_of(app).url.render_as_string(hide_password=False),
            CHECK_CODE_SECRET=qc.CHECK_CODE_SECRET,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
            PUBLIC_RATE_LIMIT="1000/minute",  # only the check-code budgets are measured here
        )
    )
    yield worker
    engine_of(worker).dispose()
    worker.extensions["qc_counter_engine"].dispose()


@pytest.mark.parametrize("route", ["verify", "register"])
def test_fifty_wrong_codes_are_throttled_after_ten(
    default_budgets: Flask, flow: Any, route: str
) -> None:
    sold = sell(flow)
    client = default_budgets.test_client()
    attempt = by_code if route == "verify" else register
    statuses = [attempt(client, sold, "WRONG-CODE").status_code for _ in range(50)]
    assert statuses == [404] * 10 + [429] * 40
    assert attempt(client, sold).status_code == 429  # the right code too, from this client


def test_the_database_holds_no_check_code_nor_an_unkeyed_digest(
    app: Flask, client: Any, flow: Any, db: Session
) -> None:
    """Every text value in every table, after issuing, verifying and registering: the code
    appears nowhere, typed or formatted, nor the bare SHA-256 that could be reversed."""
    import hashlib

    sold = sell(flow)
    by_code(client, sold)
    register(client, sold)
    code = sold.issued.check_code
    bare = hashlib.sha256(f"qc-check-v1|{sold.number}|{code.replace('-', '')}".encode()).hexdigest()
    needles = {code, code.replace("-", ""), bare}
    found = []
    for table in inspect(engine_of(app)).get_table_names():
        for row in db.execute(text(f'SELECT * FROM "{table}"')).mappings():
            found += [
                (table, column)
                for column, value in row.items()
                if any(n in str(value) for n in needles)
            ]
    assert found == []
    stored = db.execute(
        select(Certificate.check_code_hash).where(Certificate.number == sold.number)
    ).scalar_one()
    assert len(stored) == 64
