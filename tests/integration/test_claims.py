"""假一赔十 claims through the services: filing rules, the workflow, payout in fen, revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from qc_app import audit
from qc_app.certificates.models import CertificateStatus
from qc_app.claims import services
from qc_app.claims.models import Claim, Evidence
from qc_app.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from qc_app.items.workflow import ItemState
from qc_app.programmes.models import Programme
from qc_app.sqltypes import utcnow
from tests.claims_support import Sold, file, pdf_bytes, sell
from tests.conftest import stored_files

pytestmark = pytest.mark.usefixtures("cjk_font_path")


@pytest.fixture
def sold(flow: Any) -> Sold:
    return sell(flow, price_paid_fen=300000)


def test_programmes_are_seeded_as_data(db: Any) -> None:
    rows = {p.code: p for p in db.exec(select(Programme))}
    assert (rows["JYPS"].multiplier, rows["JYPS"].window_days) == (10, 90)
    assert rows["JYPS"].covers("brand") and rows["JYPS"].covers("material")
    assert not rows["JYPS"].covers("weight")
    assert rows["AXG"].multiplier == 3
    assert "KS_XRG" in rows


def test_filing_stores_only_the_secrets_hash_and_clean_evidence(flow: Any, sold: Sold) -> None:
    filed = file(flow, sold)
    claim = flow.db.get(Claim, filed.claim.id)
    assert claim.state == "filed"
    assert filed.secret not in claim.secret_hash and len(filed.secret) >= 20
    evidence = flow.db.exec(select(Evidence).where(Evidence.claim_id == claim.id)).all()
    assert [e.kind for e in evidence] == ["jpg"]
    store = stored_files(flow.app)
    stored = [store.get(o.key) for o in store.list("evidence")]
    assert stored and all(b"Exif" not in data[:200] for data in stored)
    assert services.track(session=flow.db, number=claim.number, secret=filed.secret).id == claim.id
    # Typed by hand: lower case, without the dashes, O for 0 — still the same secret.
    typed = filed.secret.replace("-", " ").lower().replace("0", "o")
    assert services.track(session=flow.db, number=claim.number, secret=typed).id == claim.id


def test_wrong_secret_reads_as_not_found(flow: Any, sold: Sold) -> None:
    filed = file(flow, sold)
    with pytest.raises(NotFound):
        services.track(session=flow.db, number=filed.claim.number, secret="guess")


@pytest.mark.parametrize("reason", ["weight", "origin", "variety", "skin"])
def test_out_of_scope_reasons_get_an_explanation_not_a_claim(
    flow: Any, sold: Sold, reason: str
) -> None:
    with pytest.raises(services.OutOfScope) as caught:
        file(flow, sold, reason=reason)
    assert "不在" in caught.value.message.render(
        "zh"
    ) and "not covered" in caught.value.message.render("en")
    assert flow.db.exec(select(Claim)).all() == []


def test_order_of_another_item_reads_as_not_found(flow: Any, sold: Sold) -> None:
    other = sell(flow)
    with pytest.raises(NotFound):
        file(flow, sold, order_no=other.order.order_no)


def test_claim_window_is_ninety_days_after_delivery(flow: Any) -> None:
    delivered = utcnow() - timedelta(days=91)
    old = sell(flow, delivered_at=delivered)
    with pytest.raises(Conflict) as caught:
        file(flow, old)
    assert caught.value.code == "window_closed"
    assert file(flow, old, now=delivered + timedelta(days=89)).claim.state == "filed"


def test_order_placed_after_the_programme_ended_is_not_covered(flow: Any, sold: Sold) -> None:
    from qc_app.db import write

    programme = flow.db.exec(select(Programme).where(Programme.code == "JYPS")).one()
    with write(flow.db):
        programme.ends_at = sold.order.created_at - timedelta(seconds=1)
        flow.db.add(programme)
    with pytest.raises(Forbidden):
        file(flow, sold)


def test_an_order_of_a_listing_without_the_label_is_not_covered(flow: Any) -> None:
    sold = sell(flow, labelled=False)
    with pytest.raises(Forbidden):
        file(flow, sold)


def test_leaving_the_programme_after_the_order_keeps_it_covered(flow: Any, sold: Sold) -> None:
    from qc_app.db import write
    from qc_app.listings.models import LabelPeriod
    from qc_app.merchants.models import Membership

    left = utcnow()
    with write(flow.db):
        for row in flow.db.exec(select(Membership)).all():
            row.left_at = left
            flow.db.add(row)
        for period in flow.db.exec(select(LabelPeriod)).all():
            period.off_at = left
            flow.db.add(period)
    assert file(flow, sold).claim.state == "filed"


def test_evidence_is_required_and_one_open_claim_per_order(flow: Any, sold: Sold) -> None:
    with pytest.raises(ValidationFailed):
        file(flow, sold, uploads=[])
    file(flow, sold)
    with pytest.raises(Conflict):
        file(flow, sold)


def test_pdf_report_is_accepted_and_pdf_with_javascript_refused(flow: Any, sold: Sold) -> None:
    with pytest.raises(ValidationFailed):
        file(flow, sold, uploads=[pdf_bytes(javascript=True)])
    assert file(flow, sold, uploads=[pdf_bytes()]).claim.id


def upheld(flow: Any, sold: Sold, multiplier_code: str = "JYPS") -> Claim:
    world = flow.world
    filed = file(flow, sold)
    services.merchant_answer(
        session=flow.db,
        actor=world["merchant1"],
        number=filed.claim.number,
        accept=True,
        note="",
        uploads=[],
        files=stored_files(flow.app),
        now=utcnow(),
    )
    return services.decide(
        session=flow.db,
        actor=world["admin1"],
        number=filed.claim.number,
        uphold=True,
        note="",
        now=utcnow(),
    )


def test_upheld_claim_pays_refund_plus_ten_times_plus_postage_and_revokes(
    flow: Any, sold: Sold
) -> None:
    claim = upheld(flow, sold)
    assert (claim.refund_fen, claim.compensation_fen, claim.postage_fen) == (300000, 3000000, 1200)
    assert claim.payout_fen == 3301200
    flow.db.refresh(sold.issued.certificate)
    assert sold.issued.certificate.status == CertificateStatus.REVOKED
    actions = [e.action for e in audit.history(flow.db, entity="claim", entity_id=claim.number)]
    assert actions == ["claim_filed", "claim_merchant_accept", "claim_uphold"]


def test_uphold_and_revocation_commit_together_or_not_at_all(
    flow: Any, sold: Sold, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qc_app.certificates import revocation

    def crash(**_kw: Any) -> None:
        raise RuntimeError("crash while revoking")

    monkeypatch.setattr(revocation, "revoke", crash)
    with pytest.raises(RuntimeError):
        upheld(flow, sold)
    flow.db.expire_all()
    claim = flow.db.exec(select(Claim)).one()
    assert claim.payout_fen is None and claim.decided_at is None
    assert claim.state == "accepted"
    actions = [e.action for e in audit.history(flow.db, entity="claim", entity_id=claim.number)]
    assert actions == ["claim_filed", "claim_merchant_accept"]
    monkeypatch.undo()
    claim = services.decide(
        session=flow.db,
        actor=flow.world["admin1"],
        number=claim.number,
        uphold=True,
        note="",
        now=utcnow(),
    )
    flow.db.refresh(sold.issued.certificate)
    assert claim.payout_fen == 3301200
    assert sold.issued.certificate.status == CertificateStatus.REVOKED


def test_a_top_price_order_pays_out_to_the_fen(flow: Any) -> None:
    # ¥1,000,000,000 paid: the payout (11 × price + postage) needs 64-bit money columns.
    claim = upheld(flow, sell(flow, price_paid_fen=10**11))
    flow.db.expire_all()
    stored = flow.db.get(Claim, claim.id)
    assert (stored.refund_fen, stored.compensation_fen) == (10**11, 10**12)
    assert stored.payout_fen == 11 * 10**11 + stored.postage_fen


def test_anxin_programme_pays_three_times(flow: Any, sold: Sold) -> None:
    from qc_app.db import write

    axg = flow.db.exec(select(Programme).where(Programme.code == "AXG")).one()
    with write(flow.db):
        sold.order.programme_id = axg.id
        flow.db.add(sold.order)
    claim = upheld(flow, sold)
    assert claim.compensation_fen == 900000 and claim.payout_fen == 300000 + 900000 + 1200


def test_admin_cannot_decide_before_the_merchant_answers(flow: Any, sold: Sold) -> None:
    filed = file(flow, sold)
    with pytest.raises(DomainError) as caught:
        services.decide(
            session=flow.db,
            actor=flow.world["admin1"],
            number=filed.claim.number,
            uphold=True,
            note="",
            now=utcnow(),
        )
    assert caught.value.status == 409


def test_other_merchant_cannot_see_or_answer_the_claim(flow: Any, sold: Sold) -> None:
    filed = file(flow, sold)
    with pytest.raises(NotFound):
        services.get_claim(
            session=flow.db, actor=flow.world["merchant2"], number=filed.claim.number
        )


def test_dispute_needs_reasons_and_rejection_needs_a_ground(flow: Any, sold: Sold) -> None:
    world = flow.world
    filed = file(flow, sold)
    answer = dict(
        session=flow.db,
        actor=world["merchant1"],
        number=filed.claim.number,
        accept=False,
        uploads=[pdf_bytes()],
        files=stored_files(flow.app),
        now=utcnow(),
    )
    with pytest.raises(ValidationFailed):
        services.merchant_answer(note=" ", **answer)
    services.merchant_answer(note="品牌授权书附后", **answer)
    decide = dict(
        session=flow.db,
        actor=world["admin1"],
        number=filed.claim.number,
        uphold=False,
        note="",
        now=utcnow(),
    )
    with pytest.raises(ValidationFailed):
        services.decide(ground="because", **decide)
    claim = services.decide(ground="item_swapped", **decide)
    assert (claim.state, claim.rejection_ground, claim.payout_fen) == (
        "rejected",
        "item_swapped",
        None,
    )
    flow.db.refresh(sold.issued.certificate)
    assert sold.issued.certificate.status == CertificateStatus.VALID


def test_reinspection_sends_the_item_back_into_the_lab_flow(flow: Any, sold: Sold) -> None:
    filed = file(flow, sold)
    claim = services.reinspect(
        session=flow.db,
        actor=flow.world["admin1"],
        number=filed.claim.number,
        note="送回质检仓复检",
        now=utcnow(),
    )
    flow.db.refresh(sold.item)
    assert claim.state == "reinspection"
    assert sold.item.state == ItemState.RECEIVED
    events = audit.history(flow.db, entity="item", entity_id=sold.item.code)
    assert (
        events[-1].action == "claim_return" and filed.claim.number in events[-1].details()["reason"]
    )


def test_payout_is_integer_fen() -> None:
    money = services.payout(price_paid_fen=12345, multiplier=10, postage_fen=800)
    assert money.total_fen == 12345 + 123450 + 800
    assert all(
        isinstance(v, int) for v in (money.refund_fen, money.compensation_fen, money.total_fen)
    )
