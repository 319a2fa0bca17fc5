"""Rights centre services: eligibility, signing, labels, leaving, guarantee_covers, admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from qc_app.audit import AuditEvent
from qc_app.db import write
from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.listings import services as listings
from qc_app.listings.models import LabelPeriod
from qc_app.merchants import programme, services
from qc_app.merchants.models import Membership
from qc_app.sqltypes import utcnow


def make_eligible(db, merchant, *, verified=True, categories="jewelry,gold"):
    with write(db):
        merchant.licence_no = "91440300MA5DEM0019"
        merchant.legal_rep_verified = verified
        merchant.categories = categories
        db.add(merchant)


def join(db, world, user="merchant1", now=None):
    return services.join_programme(
        session=db,
        actor=world[user],
        agreement_sha256=programme.agreement_sha256(),
        accepted=True,
        now=now or utcnow(),
    )


def test_signing_records_version_digest_signer_and_time(db, world):
    make_eligible(db, world.merchant_a)
    now = utcnow()
    membership = join(db, world, now=now)
    db.expire_all()  # read back from the database, not the object join() returned
    stored = db.get(Membership, membership.id)
    assert stored.agreement_version == programme.AGREEMENT_VERSION
    assert stored.agreement_sha256 == programme.agreement_sha256()
    assert stored.signed_by_id == world["merchant1"].id and stored.signed_at == now
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "programme_joined")).one()
    assert json.loads(event.data)["agreement_sha256"] == programme.agreement_sha256()


@pytest.mark.parametrize(
    ("verified", "categories", "failed"),
    [(False, "gold", "法定代表人"), (True, "cosmetics", "类目"), (True, "", "类目")],
)
def test_ineligible_merchant_cannot_sign(db, world, verified, categories, failed):
    make_eligible(db, world.merchant_a, verified=verified, categories=categories)
    with pytest.raises(ValidationFailed) as caught:
        join(db, world)
    assert failed in caught.value.message.render("zh")
    assert db.exec(select(Membership)).all() == []


def test_demo_style_licence_fails_eligibility(db, world):
    with pytest.raises(ValidationFailed, match="licence"):
        join(db, world)


def test_stale_agreement_digest_is_refused(db, world):
    make_eligible(db, world.merchant_a)
    with pytest.raises(Conflict):
        services.join_programme(
            session=db,
            actor=world["merchant1"],
            agreement_sha256="0" * 64,
            accepted=True,
            now=utcnow(),
        )


def test_unaccepted_agreement_is_refused(db, world):
    make_eligible(db, world.merchant_a)
    with pytest.raises(ValidationFailed):
        services.join_programme(
            session=db,
            actor=world["merchant1"],
            agreement_sha256=programme.agreement_sha256(),
            accepted=False,
            now=utcnow(),
        )


def test_signing_twice_is_a_conflict(db, world):
    make_eligible(db, world.merchant_a)
    join(db, world)
    with pytest.raises(Conflict):
        join(db, world)


def set_labels(db, world, listing, authentic=True, guarantee=True, user="merchant1", now=None):
    return listings.set_labels(
        session=db,
        actor=world[user],
        listing_id=listing.id,
        authentic=authentic,
        guarantee=guarantee,
        now=now or utcnow(),
    )


def test_labels_need_membership(db, world):
    with pytest.raises(Conflict, match="programme"):
        set_labels(db, world, world.listing_gold)


def test_guarantee_needs_the_authentication_label(db, world):
    make_eligible(db, world.merchant_a)
    join(db, world)
    with pytest.raises(ValidationFailed):
        set_labels(db, world, world.listing_gold, authentic=False, guarantee=True)


def test_other_merchants_listing_is_not_found(db, world):
    from qc_app.errors import NotFound

    make_eligible(db, world.merchant_a)
    join(db, world)
    with pytest.raises(NotFound):
        set_labels(db, world, world.listing_b)


def test_leaving_switches_labels_off_and_keeps_earlier_orders_covered(db, world):
    make_eligible(db, world.merchant_a)
    t0 = utcnow()
    join(db, world, now=t0)
    listing = set_labels(db, world, world.listing_gold, now=t0 + timedelta(minutes=1))
    assert listing.label_authentic and listing.label_guarantee
    t_leave = t0 + timedelta(days=3)
    services.leave_programme(session=db, actor=world["merchant1"], reason="调整经营", now=t_leave)
    db.refresh(listing)
    assert not listing.label_authentic and not listing.label_guarantee
    covers = lambda at: services.guarantee_covers(  # noqa: E731
        db, world.merchant_a.id, world.listing_gold.id, at
    )
    assert covers(t0 + timedelta(days=1))  # ordered while in: obligation stays
    assert not covers(t0)  # before the label went on
    assert not covers(t_leave + timedelta(seconds=1))  # new orders after leaving
    assert not services.guarantee_covers(
        db, world.merchant_b.id, world.listing_gold.id, t0 + timedelta(days=1)
    )
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
    assert actions[-3:] == ["programme_joined", "listing_labels", "programme_left"]


T0 = datetime(2026, 11, 1, tzinfo=UTC)


def h(hours):
    return T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("placed", "expected"),
    [
        (h(-1), False),  # before joining
        (h(0), True),  # the instant of signing
        (h(5), True),
        (h(10), False),  # the instant of leaving: half-open
        (h(11), False),
        (h(21), True),  # rejoined
        (h(25), False),  # a member, but the label was off from hour 24
    ],
)
def test_guarantee_covers_follows_membership_and_label_periods(db, world, placed, expected):
    listing = world.listing_gold
    with write(db):
        for start, end in ((h(0), h(10)), (h(20), None)):
            db.add(
                Membership(
                    merchant_id=world.merchant_a.id,
                    agreement_version="test",
                    agreement_sha256="0" * 64,
                    signed_by_id=world["merchant1"].id,
                    signed_at=start,
                    left_at=end,
                )
            )
        for start, end in ((h(0), h(10)), (h(20), h(24))):
            db.add(LabelPeriod(listing_id=listing.id, label="guarantee", on_at=start, off_at=end))
        db.add(LabelPeriod(listing_id=listing.id, label="authentic", on_at=h(24)))
    assert services.guarantee_covers(db, world.merchant_a.id, listing.id, placed) is expected
    # Another shop's periods never cover this listing, nor this shop's another's.
    assert not services.guarantee_covers(db, world.merchant_b.id, listing.id, placed)
    assert not services.guarantee_covers(db, world.merchant_a.id, world.listing_b.id, placed)


def test_leaving_when_not_a_member_is_a_conflict(db, world):
    with pytest.raises(Conflict):
        services.leave_programme(session=db, actor=world["merchant1"], reason="", now=utcnow())


def test_admin_sets_standing_with_audit_and_others_may_not(db, world):
    services.set_standing(
        session=db,
        actor=world["admin1"],
        merchant_id=world.merchant_b.id,
        legal_rep_verified=True,
        serious_violations="2",
        categories=["jadeite", "collectibles"],
        now=utcnow(),
    )
    db.refresh(world.merchant_b)
    assert (
        world.merchant_b.serious_violations == 2
        and world.merchant_b.categories == "jadeite,collectibles"
    )
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "merchant_standing")).one()
    with pytest.raises(Forbidden):
        services.set_standing(
            session=db,
            actor=world["merchant2"],
            merchant_id=world.merchant_b.id,
            legal_rep_verified=True,
            serious_violations=0,
            categories=[],
            now=utcnow(),
        )
    with pytest.raises(ValidationFailed):
        services.set_standing(
            session=db,
            actor=world["admin1"],
            merchant_id=world.merchant_b.id,
            legal_rep_verified=True,
            serious_violations="x",
            categories=[],
            now=utcnow(),
        )


def test_leaving_closes_every_open_period_and_counts_the_labelled_listings(db, world):
    from qc_app.listings.models import LabelPeriod
    from qc_app.listings.services import create_listing

    make_eligible(db, world.merchant_a)
    t0 = utcnow()
    join(db, world, now=t0)
    extra = [
        create_listing(
            session=db,
            actor=world["merchant1"],
            title=f"足金吊坠 {n}",
            brand="金福",
            material_code="AU990",
            price_fen=100000,
            now=t0,
        )
        for n in range(2)
    ]
    set_labels(db, world, world.listing_gold, now=t0)
    set_labels(db, world, extra[0], guarantee=False, now=t0)  # extra[1] stays unlabelled
    t_leave = t0 + timedelta(days=1)
    services.leave_programme(session=db, actor=world["merchant1"], reason="", now=t_leave)
    periods = db.exec(select(LabelPeriod)).all()
    assert sorted((p.listing_id, p.label) for p in periods) == sorted(
        [
            (world.listing_gold.id, "authentic"),
            (world.listing_gold.id, "guarantee"),
            (extra[0].id, "authentic"),
        ]
    )
    assert all(p.off_at == t_leave for p in periods)
    left = db.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert left.action == "programme_left"
    assert left.details()["labels_switched_off"] == 2
