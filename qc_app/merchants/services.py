"""Rights centre (权益中心) services: eligibility, signing, leaving, the merchant's standing
(admin), and `guarantee_covers`, the one question claims ask of this package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from blinker import Signal
from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import MERCHANT_PORTAL, PLATFORM, authorize
from qc_app.db import write
from qc_app.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants import programme
from qc_app.merchants.models import Membership, Merchant
from qc_app.outbox.events import emit
from qc_app.sqltypes import UTCDateTime
from qc_app.units import clean_text, parse_int

# Sent inside the transaction that ends a merchant's membership (sender: the Merchant, with
# `session` and `now`); each receiver answers how many listings it took a label off.
programme_left = Signal()


@dataclass(frozen=True)
class RightsCentre:
    merchant: Merchant
    checks: list[programme.Check]
    current: Membership | None
    history: list[Membership]

    @property
    def eligible(self) -> bool:
        return all(c.ok for c in self.checks)


def _own_merchant(session: Session, actor: User) -> Merchant:
    authorize(actor, MERCHANT_PORTAL)
    merchant = session.get(Merchant, actor.merchant_id)
    if merchant is None:
        raise NotFound(msg("未找到商家"))
    return merchant


def memberships(session: Session, merchant_id: int) -> list[Membership]:
    query = select(Membership).where(Membership.merchant_id == merchant_id)
    return list(session.exec(query.order_by(Membership.id)))  # type: ignore[arg-type]


def current_membership(session: Session, merchant_id: int) -> Membership | None:
    return _open_membership(memberships(session, merchant_id))


def _open_membership(history: list[Membership]) -> Membership | None:
    """The latest membership not yet left, if any; `history` in signing order."""
    return next((m for m in reversed(history) if m.left_at is None), None)


def rights_centre(*, session: Session, actor: User) -> RightsCentre:
    merchant = _own_merchant(session, actor)
    checks = programme.eligibility(merchant)
    history = memberships(session, merchant.id or 0)
    return RightsCentre(merchant, checks, _open_membership(history), history)


def join_programme(
    *, session: Session, actor: User, agreement_sha256: str, accepted: bool, now: datetime
) -> Membership:
    """Online signing: the page posts the digest of the text it showed; a stale page is refused."""
    merchant = _own_merchant(session, actor)
    failed = [c for c in programme.eligibility(merchant) if not c.ok]
    if failed:
        raise ValidationFailed(
            msg("未满足开通条件：{failed}", failed=tuple(c.text for c in failed)),
            code="not_eligible",
        )
    errors = FieldErrors()
    if not accepted:
        errors.add("accept", msg("请阅读并同意服务协议"))
    errors.check()
    if agreement_sha256 != programme.agreement_sha256():
        raise Conflict(
            msg("协议已更新，请刷新页面阅读新版本后再签署"),
        )
    with write(session):
        if current_membership(session, merchant.id or 0) is not None:
            raise Conflict(msg("已开通鉴定验真服务"))
        membership = Membership(
            merchant_id=merchant.id or 0,
            agreement_version=programme.AGREEMENT_VERSION,
            agreement_sha256=agreement_sha256,
            signed_by_id=actor.id or 0,
            signed_at=now,
        )
        session.add(membership)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="programme_joined",
            entity="merchant",
            entity_id=merchant.id or 0,
            at=now,
            agreement_version=membership.agreement_version,
            agreement_sha256=membership.agreement_sha256,
        )
        emit(
            session,
            type="merchant.joined",
            subject=f"merchant:{merchant.id}",
            merchant_id=merchant.id,
            at=now,
            licence_no=merchant.licence_no,
            agreement_version=membership.agreement_version,
        )
    return membership


def leave_programme(*, session: Session, actor: User, reason: object, now: datetime) -> Membership:
    """Leaving closes the period and switches every label off; earlier orders stay covered."""
    merchant = _own_merchant(session, actor)
    text = clean_text(reason, "reason", required=False, max_length=200)
    with write(session):
        membership = current_membership(session, merchant.id or 0)
        if membership is None:
            raise Conflict(msg("尚未开通鉴定验真服务"))
        membership.left_at = now
        membership.left_by_id = actor.id
        membership.leave_reason = text
        session.add(membership)
        # The labels the programme allowed go off in this transaction (listings.hooks).
        switched = sum(n for _, n in programme_left.send(merchant, session=session, now=now))
        audit.record(
            session,
            actor=actor,
            action="programme_left",
            entity="merchant",
            entity_id=merchant.id or 0,
            at=now,
            reason=text,
            labels_switched_off=switched,
        )
        emit(
            session,
            type="merchant.left",
            subject=f"merchant:{merchant.id}",
            merchant_id=merchant.id,
            at=now,
            licence_no=merchant.licence_no,
            labels_switched_off=switched,
        )
    return membership


def guarantee_in_force(merchant: str, listing: str, placed: str) -> str:
    """SQL, true when an order of `listing` (of `merchant`) placed at `placed` fell inside one
    of the merchant's programme periods (a signed period, closed or not) *and* one of the
    listing's 假一赔十-label periods. The arguments are column names or bound parameters.

    Periods are half-open [start, end): an order placed the instant the merchant left is not
    covered. The one definition: guarantee_covers runs it, the consumer page's query embeds it.
    """
    return (  # column names and parameter names from our own code only, never input
        "(EXISTS (SELECT 1 FROM programme_memberships gm"  # noqa: S608
        f" WHERE gm.merchant_id = {merchant} AND gm.signed_at <= {placed}"
        f" AND (gm.left_at IS NULL OR {placed} < gm.left_at))"
        " AND EXISTS (SELECT 1 FROM listing_label_periods gp"
        " JOIN listings gl ON gl.id = gp.listing_id"
        f" WHERE gp.listing_id = {listing} AND gl.merchant_id = {merchant}"
        f" AND gp.label = 'guarantee' AND gp.on_at <= {placed}"
        f" AND (gp.off_at IS NULL OR {placed} < gp.off_at)))"
    )


_COVERS = text("SELECT " + guarantee_in_force(":merchant", ":listing", ":placed")).bindparams(
    bindparam("placed", type_=UTCDateTime())  # compared as the columns store it, on both databases
)


def guarantee_covers(
    session: Session, merchant_id: int, listing_id: int, placed_at: datetime
) -> bool:
    """Does 假一赔十 apply to an order of this listing placed at `placed_at`?

    True when the order was placed while the merchant was in the programme *and* the listing
    carried the 假一赔十 label. Leaving the programme later does not change the answer for
    earlier orders. Read-only; for the claims package.
    """
    params = {"merchant": merchant_id, "listing": listing_id, "placed": placed_at}
    return bool(session.connection().execute(_COVERS, params).scalar())


def merchant_list() -> ListFound:
    """The shops for the platform's standing page, newest first; found by name or licence
    number (a licence number typed exactly lists that shop alone), narrowed by day joined."""
    spec = ListSpec(
        key=col(Merchant.id),
        search=(col(Merchant.name),),
        prefix=(col(Merchant.licence_no),),
        when=col(Merchant.created_at),
    )
    return spec, select(Merchant)


MAX_CHOICES = 500


def merchant_choices(session: Session) -> list[tuple[int, str]]:
    """The shops a staff list's merchant filter offers, by name (id, name)."""
    query = select(Merchant.id, Merchant.name).order_by(col(Merchant.name)).limit(MAX_CHOICES)
    return [(int(i or 0), name) for i, name in session.exec(query)]


def set_standing(
    *,
    session: Session,
    actor: User,
    merchant_id: int,
    legal_rep_verified: bool,
    serious_violations: object,
    categories: list[str],
    now: datetime,
) -> Merchant:
    """Admin: record the identity check, violations and categories the eligibility reads."""
    authorize(actor, PLATFORM)
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(msg("未找到商家"))
    violations = parse_int(serious_violations, field="serious_violations", low=0, high=1000)
    unknown = [c for c in categories if c not in programme.ALL_CATEGORIES]
    if unknown:
        raise ValidationFailed(msg("未知类目：{unknown}", unknown=unknown[0]))
    with write(session):
        before = {
            "legal_rep_verified": merchant.legal_rep_verified,
            "serious_violations": merchant.serious_violations,
            "categories": merchant.categories,
        }
        merchant.legal_rep_verified = legal_rep_verified
        merchant.serious_violations = violations
        merchant.categories = ",".join(dict.fromkeys(categories))
        session.add(merchant)
        audit.record(
            session,
            actor=actor,
            action="merchant_standing",
            entity="merchant",
            entity_id=merchant_id,
            at=now,
            before=before,
            after={
                "legal_rep_verified": legal_rep_verified,
                "serious_violations": violations,
                "categories": merchant.categories,
            },
        )
    return merchant
