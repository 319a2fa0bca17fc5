"""The consumer's page and a filed claim agree on coverage, case by case: the page offers the
claim exactly when file_claim accepts it, and names the reason file_claim refuses with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from qc_app.certificates import lookup, revocation
from qc_app.claims import services
from qc_app.claims.models import Claim
from qc_app.db import write
from qc_app.errors import DomainError
from qc_app.listings.models import LabelPeriod
from qc_app.merchants.models import Membership
from qc_app.programmes.coverage import Gap
from qc_app.programmes.models import Programme
from qc_app.sqltypes import utcnow
from qc_app.verification.services import PublicView, by_qr
from tests.claims_support import Sold, sell
from tests.conftest import issuing_setup, jpeg_bytes, stored_files

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def page(flow: Any, sold: Sold) -> PublicView:
    parts = urlsplit(sold.issued.verify_url)
    query = parse_qs(parts.query)
    return by_qr(
        session=flow.db,
        number=sold.number,
        kid=query["k"][0],
        signature=query["s"][0],
        now=utcnow(),
    )


def file(flow: Any, sold: Sold) -> Claim:
    flow.db.expire_all()
    certificate = lookup.find(flow.db, sold.number)
    return services.file_claim(
        session=flow.db,
        certificate=certificate,
        order_no=sold.order.order_no,
        reason="brand",
        description="专柜鉴定不是该品牌",
        postage_fen="0",
        uploads=[jpeg_bytes()],
        files=stored_files(flow.app),
        now=utcnow(),
    ).claim


def programme_ended(flow: Any) -> Sold:
    sold = sell(flow)
    jyps = flow.db.exec(select(Programme).where(Programme.code == "JYPS")).one()
    with write(flow.db):
        jyps.ends_at = sold.order.created_at
        flow.db.add(jyps)
    return sold


def joined_and_left_before(flow: Any) -> Sold:
    """merchant1 was in the programme with the label, and left before this order."""
    db, world, long_ago = flow.db, flow.world, utcnow() - timedelta(days=400)
    with write(db):
        db.add(
            Membership(
                merchant_id=world.merchant_a.id,
                agreement_version="test",
                agreement_sha256="0" * 64,
                signed_by_id=world["merchant1"].id,
                signed_at=long_ago,
                left_at=utcnow() - timedelta(days=1),
            )
        )
        db.add(
            LabelPeriod(
                listing_id=world.listing_gold.id,
                label="guarantee",
                on_at=long_ago,
                off_at=utcnow() - timedelta(days=1),
            )
        )
    return sell(flow)  # sell() finds the membership and adds none


def revoked(flow: Any) -> Sold:
    sold = sell(flow)
    revocation.revoke(
        session=flow.db, actor=flow.world["admin1"], number=sold.number, reason="错印", now=utcnow()
    )
    return sold


def superseded(flow: Any) -> Sold:
    sold = sell(flow)
    revocation.reissue(
        session=flow.db,
        actor=flow.world["admin1"],
        number=sold.number,
        reason="商家名称有误",
        setup=issuing_setup(flow.app),
        now=utcnow(),
    )
    return sold


CASES: dict[str, tuple[Callable[[Any], Sold], Gap | None]] = {
    "covered": (sell, None),
    "shop never joined": (lambda flow: sell(flow, labelled=False), Gap.NOT_OFFERED),
    "left before the order": (joined_and_left_before, Gap.NOT_OFFERED),
    "programme ended": (programme_ended, Gap.PROGRAMME_NOT_RUNNING),
    "not delivered": (lambda flow: sell(flow, delivered=False), Gap.NOT_DELIVERED),
    "window closed": (
        lambda flow: sell(flow, delivered_at=utcnow() - timedelta(days=91)),
        Gap.WINDOW_CLOSED,
    ),
    "revoked": (revoked, Gap.REVOKED),
    "superseded": (superseded, Gap.SUPERSEDED),
}


@pytest.mark.parametrize("case", list(CASES))
def test_page_and_claim_agree(flow: Any, case: str) -> None:
    make, gap = CASES[case]
    sold = make(flow)
    coverage = page(flow, sold).record.coverage  # type: ignore[union-attr]
    assert coverage.gap == gap
    if gap is None:
        assert file(flow, sold).state == "filed"
        return
    with pytest.raises(DomainError) as refused:
        file(flow, sold)
    assert refused.value.code == gap.value
    assert refused.value.message.render("zh") == coverage.message.render("zh")
    assert flow.db.exec(select(Claim)).all() == []


def test_a_certificate_never_sold_has_no_guarantee(flow: Any) -> None:
    _, issued = flow.certified()
    coverage = page(flow, Sold(None, issued, None)).record.coverage  # type: ignore[arg-type,union-attr]
    assert coverage.gap == Gap.NO_ORDER and coverage.terms is None
