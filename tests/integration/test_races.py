"""Concurrent transitions (security.md §8 check 33): 50 parallel requests on one object, through
the real HTTP layer (one Flask test client per thread), on SQLite and on PostgreSQL. Exactly one
wins; the other 49 get 409 with a message, never a 500; one audit event, one certificate, one
payout. The database settles the race, not a check in Python made before the transaction."""

from __future__ import annotations

import io
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from qc_app.audit import AuditEvent
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.claims import services as claims
from qc_app.claims.models import ACTIVE_STATES_SQL, ONE_CLAIM, Claim
from qc_app.db import EXISTS, MAX_DB_INT, engine_of, new_session, write
from qc_app.errors import LostRace
from qc_app.items.models import Item
from qc_app.items.workflow import ItemState
from qc_app.migrate import downgrade, upgrade
from qc_app.orders.models import Order, OrderState
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.claims_support import Sold, sell
from tests.conftest import Flow, jpeg_bytes, stored_files, stored_pdfs
from tests.web.helpers import csrf, login

pytestmark = pytest.mark.usefixtures("cjk_font_path")
N = 50


def race(attempts: list[Callable[[], Any]]) -> list[Any]:
    """Run every attempt at once (one thread each, released together); their results in order."""
    barrier = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = attempts[i]()
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results


def statuses(responses: list[Any]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def refusals(responses: list[Any]) -> set[str]:
    """The messages of the refused API calls: each says what happened, in both languages."""
    found = set()
    for r in responses:
        if r.status_code == 409:
            error = r.get_json()["error"]
            assert error["message"] and error["message_zh"], error
            found.add(error["message"])
    return found


def fresh(app: Flask) -> Session:
    """A new session: what the database holds now, not what the test's session remembers."""
    return new_session(engine_of(app))


def events(app: Flask, action: str) -> int:
    with fresh(app) as db:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return int(db.exec(query).one())


def api(app: Flask, headers: dict[str, str], path: str, body: dict[str, Any]) -> Callable[[], Any]:
    client = app.test_client()
    return lambda: client.post(path, json=body, headers=headers)


# -- filing a 假一赔十 claim --------------------------------------------------------------------


def claim_form(app: Flask, sold: Sold) -> Callable[[], Any]:
    """A consumer's browser with the claim form open (its CSRF token read), ready to submit."""
    parts = urlsplit(sold.issued.verify_url)
    proof = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = f"{parts.path}/claim"
    client = app.test_client()
    token = csrf(client, f"{path}?k={proof['k']}&s={proof['s']}")
    photo = jpeg_bytes()

    def submit() -> Any:
        return client.post(
            path,
            data={
                "csrf_token": token,
                **proof,
                "order_no": sold.order.order_no,
                "reason": "material",
                "description": "送检结果为镀金",
                "postage_yuan": "12",
                "evidence": (io.BytesIO(photo), "photo.jpg"),
            },
            content_type="multipart/form-data",
        )

    return submit


def test_parallel_filings_of_one_order_make_one_claim(app: Flask, flow: Flow) -> None:
    sold = sell(flow)
    responses = race([claim_form(app, sold) for _ in range(N)])
    assert statuses(responses) == {200: 1, 409: N - 1}
    refused = [r.get_data(as_text=True) for r in responses if r.status_code == 409]
    assert all("该订单已有处理中或已成立的理赔" in page for page in refused)
    with fresh(app) as db:
        assert len(db.exec(select(Claim)).all()) == 1
    assert events(app, "claim_filed") == 1


# -- one claim decided by many at once ---------------------------------------------------------


def answered_claim(flow: Flow) -> tuple[Sold, str]:
    sold = sell(flow)
    filed = claims.file_claim(
        session=flow.db,
        certificate=sold.issued.certificate,
        order_no=sold.order.order_no,
        reason="material",
        description="送检结果为镀金",
        postage_fen="1200",
        uploads=[jpeg_bytes()],
        files=stored_files(flow.app),
        now=utcnow(),
    )
    claims.merchant_answer(
        session=flow.db,
        actor=flow.world["merchant1"],
        number=filed.claim.number,
        accept=True,
        note="",
        uploads=[],
        files=stored_files(flow.app),
        now=utcnow(),
    )
    return sold, filed.claim.number


def test_parallel_upholds_pay_once_and_revoke_once(app: Flask, flow: Flow, token: Any) -> None:
    sold, number = answered_claim(flow)
    path = f"/api/v1/claims/{number}/decision"
    headers = token("admin1")
    responses = race([api(app, headers, path, {"decision": "uphold"}) for _ in range(N)])
    assert statuses(responses) == {200: 1, 409: N - 1}
    assert refusals(responses)
    with fresh(app) as db:
        claim = db.exec(select(Claim)).one()
        assert claim.state == "upheld" and claim.payout_fen == 300000 * 11 + 1200
        certificate = db.get(Certificate, sold.issued.certificate.id)
        assert certificate is not None and certificate.status == CertificateStatus.REVOKED
    assert events(app, "claim_uphold") == 1
    assert events(app, "certificate_revoked") == 1


def test_parallel_uphold_and_reject_decide_once(app: Flask, flow: Flow, token: Any) -> None:
    _, number = answered_claim(flow)
    path = f"/api/v1/claims/{number}/decision"
    headers = token("admin1")
    bodies = [{"decision": "uphold"}, {"decision": "reject", "ground": "item_swapped"}]
    responses = race([api(app, headers, path, bodies[i % 2]) for i in range(N)])
    assert statuses(responses) == {200: 1, 409: N - 1}
    assert events(app, "claim_uphold") + events(app, "claim_reject") == 1


def test_parallel_upholds_and_revocations_revoke_once(app: Flask, flow: Flow, token: Any) -> None:
    """Two objects at once: upholding revokes the certificate an admin is revoking too."""
    sold, number = answered_claim(flow)
    headers = token("admin1")
    uphold = (f"/api/v1/claims/{number}/decision", {"decision": "uphold"})
    revoke = (f"/api/v1/certificates/{sold.number}/revoke", {"reason": "伪造"})
    calls = [uphold if i % 2 else revoke for i in range(N)]
    responses = race([api(app, headers, path, body) for path, body in calls])
    upholds = [r for r, (path, _) in zip(responses, calls, strict=True) if path == uphold[0]]
    assert statuses(upholds)[200] == 1 and 500 not in statuses(responses)
    # Each loser is told what won; none had to be cut out of a deadlock (PostgreSQL).
    assert refusals(responses) <= {
        "cannot uphold the claim: the claim is upheld",
        "the certificate is already revoked",
    }
    assert events(app, "claim_uphold") == 1 and events(app, "certificate_revoked") == 1


def claim_page_posts(
    app: Flask, username: str, number: str, action: str, data: dict[str, str]
) -> list[Callable[[], Any]]:
    """N tabs of one signed-in user, each posting the claim page's form (one login: a
    second-factor code is accepted once, so N logins would wait N/2 TOTP steps)."""
    signed_in = app.test_client()
    login(signed_in, username)
    cookie = signed_in.get_cookie("qc_session").value
    posts = []
    for _ in range(N):
        client = app.test_client()
        client.set_cookie("qc_session", cookie)
        token = csrf(client, f"/claims/{number}")
        posts.append(
            lambda client=client, token=token: client.post(
                f"/claims/{number}/{action}", data={"csrf_token": token, **data}
            )
        )
    return posts


@pytest.mark.parametrize(
    ("username", "action", "data", "event"),
    [
        (
            "merchant1",
            "answer",
            {"answer": "dispute", "note": "专柜发票齐全"},
            "claim_merchant_dispute",
        ),
        ("admin1", "reinspect", {"note": "退回复检"}, "claim_reinspect"),
    ],
)
def test_parallel_answers_on_the_pages_record_one(
    app: Flask, flow: Flow, username: str, action: str, data: dict[str, str], event: str
) -> None:
    sold = sell(flow)
    filed = claims.file_claim(
        session=flow.db,
        certificate=sold.issued.certificate,
        order_no=sold.order.order_no,
        reason="brand",
        description="专柜说不是该品牌",
        postage_fen="0",
        uploads=[jpeg_bytes()],
        files=stored_files(app),
        now=utcnow(),
    )
    number = filed.claim.number
    responses = race(claim_page_posts(app, username, number, action, data))
    # The winner is sent back to the claim; each loser sees the refusal page (no Referer here).
    assert statuses(responses) == {302: 1, 409: N - 1}
    assert all(
        "不能" in r.get_data(as_text=True) or "刚被他人修改" in r.get_data(as_text=True)
        for r in responses
        if r.status_code == 409
    )
    assert events(app, event) == 1


# -- certificates ------------------------------------------------------------------------------


def test_parallel_revocations_revoke_once(app: Flask, flow: Flow, token: Any) -> None:
    _, issued = flow.certified()
    path = f"/api/v1/certificates/{issued.certificate.number}/revoke"
    headers = token("admin1")
    responses = race([api(app, headers, path, {"reason": f"test {i}"}) for i in range(N)])
    assert statuses(responses) == {200: 1, 409: N - 1}
    assert refusals(responses) == {"the certificate is already revoked"}
    assert events(app, "certificate_revoked") == 1


def test_parallel_reissues_leave_one_valid_certificate(app: Flask, flow: Flow, token: Any) -> None:
    item, issued = flow.certified()
    path = f"/api/v1/certificates/{issued.certificate.number}/reissue"
    headers = token("admin1")
    responses = race([api(app, headers, path, {"reason": "印错"}) for _ in range(N)])
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert refusals(responses)
    with fresh(app) as db:
        rows = db.exec(select(Certificate).where(Certificate.item_id == item.id)).all()
        assert len(rows) == 2
        assert [r.status for r in rows].count(CertificateStatus.VALID) == 1
        # The losers' signed PDFs were removed with their transactions: no orphan files.
        assert {r.pdf_sha256 for r in rows} == stored_pdfs(app)
    assert events(app, "certificate_reissued") == 1


def test_parallel_issues_make_one_certificate(app: Flask, flow: Flow, token: Any) -> None:
    (item,) = flow.approved(1)
    path = f"/api/v1/items/{item.code}/certificate"
    headers = token("inspector1")
    responses = race([api(app, headers, path, {}) for _ in range(N)])
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert refusals(responses)
    with fresh(app) as db:
        rows = db.exec(select(Certificate).where(Certificate.item_id == item.id)).all()
        assert len(rows) == 1 and {rows[0].pdf_sha256} == stored_pdfs(app)
        assert db.get(Item, item.id).state == ItemState.CERTIFIED  # type: ignore[union-attr]
    assert events(app, "issue_certificate") == 1


def test_parallel_approvals_approve_once(app: Flask, flow: Flow, token: Any) -> None:
    item = flow.declare()
    flow.receive(item)
    inspection = flow.inspect(item)
    path = f"/api/v1/inspections/{inspection.id}/approve"
    responses = race([api(app, token(f"reviewer{1 + i % 2}"), path, {}) for i in range(N)])
    assert statuses(responses) == {200: 1, 409: N - 1}
    assert events(app, "approve_pass") == 1


# -- seals: one tamper-evident bag, one parcel -------------------------------------------------


def packable(flow: Flow) -> tuple[Order, Item, str]:
    """A certified item with an open order of its listing, ready for the packing station."""
    item, issued = flow.certified()
    tag = uuid.uuid4().hex[:8].upper()
    order = create_order(
        session=flow.db,
        actor=flow.world["admin1"],
        order_no=f"ORD{tag}",
        listing_id=flow.world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no=f"SF{tag}",
        now=utcnow(),
    )
    return order, item, issued.certificate.number


def pack_body(order: Order, item: Item, certificate: str, seal: str) -> dict[str, Any]:
    return {
        "waybill_no": order.waybill_no,
        "item_code": item.code,
        "certificate": certificate,
        "seal_no": seal,
        "mass_g": "5.03",
    }


def test_a_seal_used_on_one_parcel_is_refused_on_the_next(
    app: Flask, flow: Flow, token: Any
) -> None:
    first, second = packable(flow), packable(flow)
    headers = token("inspector1")
    client = app.test_client()
    packed = client.post("/api/v1/packing", json=pack_body(*first, "FQ-7001"), headers=headers)
    assert packed.status_code == 200, packed.get_json()
    refused = client.post("/api/v1/packing", json=pack_body(*second, "fq-7001 "), headers=headers)
    assert refused.status_code == 409
    assert "FQ-7001" in refused.get_json()["error"]["message_zh"]
    assert first[0].order_no in refused.get_json()["error"]["message_zh"]
    with fresh(app) as db:
        order = db.get(Order, second[0].id)
        assert order is not None and order.state == OrderState.OPEN and order.seal_no is None


def test_parallel_packs_with_one_seal_pack_one_parcel(app: Flask, flow: Flow, token: Any) -> None:
    parcels = [packable(flow) for _ in range(6)]
    headers = token("inspector1")
    responses = race(
        [api(app, headers, "/api/v1/packing", pack_body(*p, "FQ-8001")) for p in parcels]
    )
    assert statuses(responses) == {200: 1, 409: len(parcels) - 1}
    assert refusals(responses)
    with fresh(app) as db:
        sealed = db.exec(select(Order).where(col(Order.seal_no) == "FQ-8001")).all()
        assert len(sealed) == 1 and sealed[0].state == OrderState.PACKED
    assert events(app, "pack") == 1


# -- the constraints themselves, past every check in Python ------------------------------------


def copy_of(claim: Claim, **changes: Any) -> Claim:
    fields = {name: getattr(claim, name) for name in Claim.model_fields if name != "id"}
    return Claim(**{**fields, "number": f"PF-{uuid.uuid4().hex[:10].upper()}", **changes})


def test_the_database_refuses_a_second_active_claim_and_a_second_payout(flow: Flow) -> None:
    _, number = answered_claim(flow)
    claim = claims.decide(
        session=flow.db, actor=flow.world["admin1"], number=number, uphold=True, note="",
        now=utcnow(),
    )  # fmt: skip
    # Each copy meets one index: another open claim, another payout.
    twins = (copy_of(claim, state="filed", payout_fen=None), copy_of(claim, state="rejected"))
    for duplicate in twins:
        with pytest.raises(LostRace) as refused, write(flow.db):
            flow.db.add(duplicate)
        assert refused.value.status == 409 and refused.value.message.render(
            "zh"
        ) == ONE_CLAIM.render("zh")
    with write(flow.db):  # a rejected claim, unpaid, does not hold the order
        flow.db.add(copy_of(claim, state="rejected", payout_fen=None))
    assert len(flow.db.exec(select(Claim)).all()) == 2


def test_other_integrity_errors_are_bugs_not_races(flow: Flow) -> None:
    answered_claim(flow)
    claim = flow.db.exec(select(Claim)).one()
    with pytest.raises(IntegrityError), write(flow.db):
        flow.db.add(copy_of(claim, state="rejected", order_id=MAX_DB_INT))  # no such order


def test_a_duplicate_without_a_refusal_of_its_own_gets_the_general_one(flow: Flow) -> None:
    order, _, _ = packable(flow)
    fields = {name: getattr(order, name) for name in Order.model_fields if name != "id"}
    twin = Order(**{**fields, "waybill_no": "SF-OTHER"})
    with pytest.raises(LostRace) as refused, write(flow.db):
        flow.db.add(twin)  # the same order number
    assert refused.value.message.render("en") == EXISTS.render("en")


def test_claim_states_that_hold_an_order_match_the_index() -> None:
    named = sorted(re.findall(r"'(\w+)'", ACTIVE_STATES_SQL))
    assert named == sorted(state.value for state in claims.ACTIVE)


def test_migration_0008_names_the_duplicates_races_left_behind(app: Flask, flow: Flow) -> None:
    answered_claim(flow)
    sealed = packable(flow)[0]
    engine = engine_of(app)
    downgrade(engine, "0007")
    with engine.begin() as connection:
        columns = ", ".join(n for n in Claim.model_fields if n not in ("id", "number"))
        connection.execute(
            text(f"INSERT INTO claims (number, {columns}) SELECT 'PF-TWIN', {columns} FROM claims")
        )
        connection.execute(
            text("UPDATE orders SET seal_no = 'FQ-TWIN' WHERE id IN (:a, :b)"),
            {"a": sealed.id, "b": flow.db.exec(select(Claim)).one().order_id},
        )
    with pytest.raises(RuntimeError) as refused:
        upgrade(engine)
    message = str(refused.value)
    assert "more than one open or upheld claim" in message and "FQ-TWIN" in message


def test_parallel_confirmed_decisions_on_the_pages_decide_once(app: Flask, flow: Flow) -> None:
    """Admins' tabs confirming opposite decisions at once (the confirmation page's second
    POST, with its note): one decision wins, every other tab is told it lost, never a 500."""
    sold, number = answered_claim(flow)
    uphold = claim_page_posts(
        app, "admin1", number, "decide", {"decision": "uphold", "confirm": "1", "note": "属实"}
    )
    reject = claim_page_posts(
        app,
        "admin1",
        number,
        "decide",
        {"decision": "reject", "ground": "item_swapped", "confirm": "1", "note": "已调换"},
    )
    responses = race([uphold[i] if i % 2 else reject[i] for i in range(N)])
    assert statuses(responses) == {302: 1, 409: N - 1}
    assert events(app, "claim_uphold") + events(app, "claim_reject") == 1
    with fresh(app) as db:
        claim = db.exec(select(Claim)).one()
        order = db.get(Order, sold.order.id)
        assert order is not None
        assert (claim.state, order.state) in {
            ("upheld", OrderState.COMPENSATED),
            ("rejected", OrderState.DELIVERED),
        }
