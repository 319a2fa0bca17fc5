"""Filing, answering, deciding and following 假一赔十 claims.

Upheld: refund of the price actually paid + multiplier × that price + the consumer's postage,
all integer fen; the certificate is revoked in the same transaction (a hook on "uphold",
connected at start-up: certificates.hooks).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false
from sqlmodel import Session, col, select

from qc_app import audit, lifecycle, storage
from qc_app.auth.models import User
from qc_app.authz import CLAIMS, Role, allows, ensure_visible
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.claims import evidence, guards, workflow
from qc_app.claims.models import (
    Claim,
    ClaimReason,
    Evidence,
    Party,
    RejectionGround,
)
from qc_app.claims.workflow import ClaimChange, ClaimState
from qc_app.codes import new_claim_number, new_claim_secret, normalize
from qc_app.db import write
from qc_app.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from qc_app.i18n import Message, msg
from qc_app.items import guards as item_guards
from qc_app.items.models import Item
from qc_app.items.services import apply
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.merchants.services import guarantee_covers
from qc_app.orders.models import Order
from qc_app.outbox.events import emit
from qc_app.programmes import coverage
from qc_app.programmes.models import Programme
from qc_app.statemachine import NO_FACTS
from qc_app.storage import Storage
from qc_app.units import clean_text, parse_int

# The states that hold the order, open or upheld: one such claim per order (the unique index
# uq_claims_order_active settles parallel filings), so 假一赔十 is paid at most once.
ACTIVE = frozenset(
    {
        ClaimState.FILED,
        ClaimState.ACCEPTED,
        ClaimState.DISPUTED,
        ClaimState.REINSPECTION,
        ClaimState.UPHELD,
    }
)
MAX_POSTAGE_FEN = 100_000  # ¥1,000: more than any parcel of jewellery costs to send back

# What the guarantee does not cover, and why (shown instead of filing a claim).
OUT_OF_SCOPE: dict[ClaimReason, Message] = {
    ClaimReason.WEIGHT: msg(
        "克重差异不在假一赔十保障范围内。证书上的质量由质检仓称重（精确到 0.01 克"
        "）；如对克重有疑问，请联系商家或平台客服。"
    ),
    ClaimReason.ORIGIN: msg(
        "产地（如缅甸、新疆）不在保障范围内：常规检测无法确定产地，证书不对产地作保证。"
    ),
    ClaimReason.VARIETY: msg(
        "品种、种水等商业描述不在保障范围内；保障的是检测定名（材质）是否真实。"
    ),
    ClaimReason.SKIN: msg("皮色不在保障范围内：皮色可以人工染色或自然形成，证书不对皮色作保证。"),
}


class OutOfScope(DomainError):
    """The complaint is about something the programme does not cover: an answer, not a claim."""

    status = 422
    code = "out_of_scope"


@dataclass(frozen=True)
class Filed:
    claim: Claim
    secret: str  # shown to the consumer once; only its hash is stored


@dataclass(frozen=True)
class Payout:
    refund_fen: int
    compensation_fen: int
    postage_fen: int

    @property
    def total_fen(self) -> int:
        return self.refund_fen + self.compensation_fen + self.postage_fen


def payout(*, price_paid_fen: int, multiplier: int, postage_fen: int) -> Payout:
    """假一赔十: refund of the price paid + multiplier × the price paid + postage."""
    return Payout(price_paid_fen, multiplier * price_paid_fen, postage_fen)


def payout_of(session: Session, claim: Claim, postage_fen: int) -> Payout:
    """What upholding `claim` pays with this postage: the decision and its preview both ask."""
    order = session.get_one(Order, claim.order_id)
    programme = session.get_one(Programme, claim.programme_id)
    return payout(
        price_paid_fen=order.price_paid_fen,
        multiplier=programme.multiplier,
        postage_fen=postage_fen,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _secret_key(typed: str) -> str:
    return _digest(normalize(typed).replace("-", ""))


def parse_reason(value: object) -> ClaimReason:
    try:
        return ClaimReason(str(value))
    except ValueError:
        raise ValidationFailed(msg("请选择理赔原因")) from None


def parse_postage(value: object) -> int:
    try:
        return parse_int(value or 0, field="postage_fen", low=0, high=MAX_POSTAGE_FEN)
    except ValidationFailed:
        raise ValidationFailed(msg("邮费须为 0–100000 分的整数")) from None


def programme_of(session: Session, order: Order) -> Programme:
    """The programme the order was placed under (programmes.services names it then)."""
    return session.get_one(Programme, order.programme_id)


def coverage_of(
    session: Session, *, certificate: Certificate, order: Order, now: datetime
) -> coverage.Coverage:
    """Whether the certificate's order is covered now: the same `coverage.decide` as the
    consumer's page, over the same facts read here through the ORM."""
    facts = coverage.Facts(
        certificate_valid=certificate.status == CertificateStatus.VALID,
        superseded=certificate.superseded_by is not None,
        terms=programme_of(session, order).terms(),
        placed_at=order.created_at,
        delivered_at=order.delivered_at,
        offered=guarantee_covers(session, order.merchant_id, order.listing_id, order.created_at),
        claimed=session.exec(
            select(Claim).where(Claim.order_id == order.id, Claim.state.in_(list(ACTIVE)))  # type: ignore[attr-defined]
        ).first()
        is not None,
    )
    return coverage.decide(facts, now)


def _store(files: Storage, checked: evidence.CheckedFile) -> str:
    return storage.store(files, "evidence", checked.data, "." + checked.kind)


def _evidence_rows(
    claim: Claim, party: str, checked: Sequence[evidence.CheckedFile], files: Storage, now: datetime
) -> list[Evidence]:
    return [
        Evidence(
            claim_id=claim.id or 0,
            party=party,
            kind=c.kind,
            sha256=_store(files, c),
            original_sha256=c.original_sha256,
            size=len(c.data),
            created_at=now,
        )
        for c in checked
    ]


def file_claim(
    *,
    session: Session,
    certificate: Certificate,
    order_no: str,
    reason: object,
    description: object,
    postage_fen: object,
    uploads: list[bytes],
    files: Storage,
    now: datetime,
) -> Filed:
    """A consumer files a claim from the certificate's page; the order must be the one this
    certificate's item was packed into (a wrong order number reads as not found). Every
    field's problem is named at once, by the form's input names."""
    errors = FieldErrors()
    why = errors.take("reason", parse_reason, reason)
    order = session.exec(select(Order).where(Order.order_no == order_no.strip()[:40])).first()
    item = session.get(Item, certificate.item_id)
    if order is None or item is None or item.order_id != order.id:
        raise NotFound(msg("未找到与该证书对应的订单"))
    programme = programme_of(session, order)
    if why is not None and not programme.covers(why):
        raise OutOfScope(OUT_OF_SCOPE.get(why, msg("不在保障范围内")))
    covered = coverage_of(session, certificate=certificate, order=order, now=now)
    if not covered.covered:
        raise covered.refusal()
    text = errors.take(
        "description", clean_text, description, "description", required=True, max_length=2000
    )
    postage = errors.take("postage_yuan", parse_postage, postage_fen)
    checked = errors.take("evidence", evidence.check_files, uploads)
    if checked == []:
        errors.add("evidence", msg("请上传至少一份证据（照片或检测报告）"))
    errors.check()
    assert why is not None and text is not None and postage is not None and checked
    secret = new_claim_secret()
    with write(session):
        claim = Claim(
            number=new_claim_number(),
            secret_hash=_secret_key(secret),
            order_id=order.id or 0,
            certificate_id=certificate.id or 0,
            merchant_id=order.merchant_id,
            programme_id=programme.id or 0,
            reason=why,
            description=text,
            postage_fen=postage,
            state=ClaimState.FILED,
            created_at=now,
        )
        session.add(claim)
        session.flush()
        rows = _evidence_rows(claim, Party.CONSUMER, checked, files, now)
        session.add_all(rows)
        audit.record(
            session,
            actor=None,
            action="claim_filed",
            entity="claim",
            entity_id=claim.number,
            at=now,
            order=order.order_no,
            certificate=certificate.number,
            programme=programme.code,
            reason=why.value,
            evidence=[r.sha256 for r in rows],
            evidence_originals=[r.original_sha256 for r in rows],
        )
        emit(
            session,
            type="claim.filed",
            subject=f"order:{order.order_no}",
            merchant_id=order.merchant_id,
            at=now,
            claim_number=claim.number,
            order_no=order.order_no,
            waybill_no=order.waybill_no,
            certificate_number=certificate.number,
            state=claim.state,
            reason=why.value,
            postage_fen=postage,
        )
    return Filed(claim, secret)


def get_claim(*, session: Session, actor: User, number: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.number == normalize(number))).first()
    if claim is None or not allows(actor, CLAIMS):
        raise NotFound(msg("未找到理赔"))
    ensure_visible(actor, claim.merchant_id, msg("未找到理赔"))
    return claim


def track(*, session: Session, number: str, secret: str) -> Claim:
    """The consumer follows a claim by its number and the secret shown at filing."""
    errors = FieldErrors()
    if not number.strip():
        errors.add("number", msg("请填写理赔编号"))
    if not secret.strip():
        errors.add("secret", msg("请填写查询码"))
    errors.check()
    claim = session.exec(select(Claim).where(Claim.number == normalize(number))).first()
    expected = claim.secret_hash if claim else _digest("no such claim")
    if not hmac.compare_digest(expected, _secret_key(secret)) or claim is None:
        raise NotFound(msg("未找到理赔（请核对编号和查询码）"))
    return claim


def claim_list(*, actor: User) -> ListFound:
    """The claims a user may see, newest first, with their order's number and their shop's
    name: a merchant only its own whatever it asks for (no shop filter), the platform all."""
    query = (
        select(Claim, Order.order_no, Merchant.name)
        .join(Order, col(Order.id) == col(Claim.order_id))
        .join(Merchant, col(Merchant.id) == col(Claim.merchant_id))
    )
    shop = actor.role == Role.MERCHANT
    if shop:  # isolation: a shop lists its own claims
        query = query.where(col(Claim.merchant_id) == actor.merchant_id)
    elif not allows(actor, CLAIMS):
        query = query.where(false())
    spec = ListSpec(
        key=col(Claim.id),
        search=(col(Merchant.name),),
        exact=(col(Claim.number), col(Order.order_no)),
        state=col(Claim.state),
        states=tuple(ClaimState),
        state_kind="claim",
        merchant=None if shop else col(Claim.merchant_id),
        when=col(Claim.created_at),
    )
    return spec, query


def evidence_of(session: Session, claim: Claim) -> list[Evidence]:
    query = select(Evidence).where(Evidence.claim_id == claim.id)
    return list(session.exec(query.order_by(Evidence.id)))  # type: ignore[arg-type]


def evidence_file(
    *, session: Session, actor: User, number: str, evidence_id: int, files: Storage
) -> tuple[Evidence, bytes]:
    claim = get_claim(session=session, actor=actor, number=number)
    row = session.get(Evidence, evidence_id)
    if row is None or row.claim_id != claim.id:
        raise NotFound(msg("未找到证据"))
    return row, storage.load(files, "evidence", row.sha256, "." + row.kind)


def _apply(
    session: Session,
    claim: Claim,
    name: str,
    actor: User,
    now: datetime,
    facts: object = NO_FACTS,
    **details: object,
) -> ClaimChange:
    return lifecycle.apply(
        session,
        workflow.MACHINE,
        claim,
        name,
        actor=actor,
        now=now,
        entity="claim",
        entity_id=claim.number,
        facts=facts,
        action=f"claim_{name}",
        **details,
    )


def merchant_answer(
    *,
    session: Session,
    actor: User,
    number: str,
    accept: bool,
    note: str,
    uploads: list[bytes],
    files: Storage,
    now: datetime,
) -> Claim:
    claim = get_claim(session=session, actor=actor, number=number)
    name = "merchant_accept" if accept else "merchant_dispute"
    facts = guards.Note(note) if not accept else NO_FACTS
    errors = FieldErrors()  # the dispute's reason and the files, named at once
    errors.take("note", workflow.MACHINE.check, claim, name, actor, facts)
    checked = errors.take("evidence", evidence.check_files, uploads)
    errors.check()
    assert checked is not None
    with write(session, claim):
        claim.merchant_note = note.strip()[:2000] or None
        rows = _evidence_rows(claim, Party.MERCHANT, checked, files, now)
        session.add_all(rows)
        _apply(session, claim, name, actor, now, facts, evidence=[r.sha256 for r in rows])
    return claim


def reinspect(*, session: Session, actor: User, number: str, note: str, now: datetime) -> Claim:
    """The returned item goes back to the warehouse's lab flow (item workflow, audited there)."""
    claim = get_claim(session=session, actor=actor, number=number)
    certificate = session.get(Certificate, claim.certificate_id)
    item = session.get(Item, certificate.item_id) if certificate else None
    if item is None:
        raise NotFound(msg("未找到物品"))
    reason = f"{claim.number}: {note.strip()}"[:200]
    workflow.MACHINE.check(claim, "reinspect", actor, guards.Note(note))
    with write(session, claim, item):
        apply(session, item, "claim_return", actor, now, item_guards.Reason(note), reason=reason)
        claim.decision_note = note.strip()[:2000]
        _apply(session, claim, "reinspect", actor, now, guards.Note(note), item=item.code)
    return claim


def preview_decision(
    *,
    session: Session,
    actor: User,
    number: str,
    uphold: bool,
    ground: str | None = None,
    postage_fen: object = None,
) -> tuple[Claim, Payout | None]:
    """What `decide` would do, refused as `decide` would refuse it, changing nothing: the
    confirmation step shows it (the payout from the same `payout_of`) before the admin decides."""
    claim = get_claim(session=session, actor=actor, number=number)
    if not uphold:
        workflow.MACHINE.check(claim, "reject", actor, guards.Ground(ground))
        return claim, None
    postage = claim.postage_fen if postage_fen is None else parse_postage(postage_fen)
    workflow.MACHINE.check(claim, "uphold", actor, guards.Postage(postage))
    return claim, payout_of(session, claim, postage)


def decide(
    *,
    session: Session,
    actor: User,
    number: str,
    uphold: bool,
    note: str,
    now: datetime,
    ground: str | None = None,
    postage_fen: object = None,
) -> Claim:
    """postage_fen: what the platform pays for the consumer's postage when upholding; None
    keeps what the consumer asked for."""
    claim = get_claim(session=session, actor=actor, number=number)
    if uphold:
        postage = claim.postage_fen if postage_fen is None else parse_postage(postage_fen)
        workflow.MACHINE.check(claim, "uphold", actor, guards.Postage(postage))
        programme = session.get_one(Programme, claim.programme_id)
        money = payout_of(session, claim, postage)
        # The claim is read again under the lock: of parallel decisions one finds it answered,
        # the others are refused by the transition (and the version column backs that up).
        # The certificate it revokes is locked now too, before the audit chain's lock: taken
        # later, it would deadlock with an admin revoking it at the same moment.
        certificate = session.get_one(Certificate, claim.certificate_id)
        with write(session, claim, certificate):
            claim.postage_fen = postage
            claim.refund_fen = money.refund_fen
            claim.compensation_fen = money.compensation_fen
            claim.payout_fen = money.total_fen
            claim.decision_note = note.strip()[:2000] or claim.decision_note
            claim.decided_at = now
            _apply(
                session,
                claim,
                "uphold",
                actor,
                now,
                guards.Postage(postage),
                refund_fen=money.refund_fen,
                compensation_fen=money.compensation_fen,
                postage_fen=postage,
                payout_fen=money.total_fen,
                multiplier=programme.multiplier,
                note=claim.decision_note,
            )
        return claim
    workflow.MACHINE.check(claim, "reject", actor, guards.Ground(ground))
    with write(session, claim):
        claim.rejection_ground = RejectionGround(str(ground)).value
        claim.decision_note = note.strip()[:2000] or None
        claim.decided_at = now
        _apply(
            session,
            claim,
            "reject",
            actor,
            now,
            guards.Ground(ground),
            ground=claim.rejection_ground,
            note=claim.decision_note,
        )
    return claim
