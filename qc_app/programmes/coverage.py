"""Is this certificate's order covered by its guarantee programme right now? One pure answer.

The consumer's page (its one query's row) and claims.services.file_claim (the ORM rows) both
gather the same `Facts` and ask `decide`, so the page never offers a claim the service refuses,
nor hides one it would accept. No Flask, no session, no clock: the caller passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from qc_app.errors import Conflict, DomainError, Forbidden, NotFound
from qc_app.i18n import Message, msg


@dataclass(frozen=True)
class Terms:
    """A programme's terms (假一赔十 ×10, 安心购 退一赔三 ×3, …); the row is models.Programme."""

    code: str
    name_zh: str
    name_en: str
    multiplier: int
    window_days: int
    starts_at: datetime
    ends_at: datetime | None  # exclusive; None: still running

    def in_force_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


@dataclass(frozen=True)
class Facts:
    """What coverage depends on, read with the certificate."""

    certificate_valid: bool
    superseded: bool  # revoked and replaced by a reissued certificate
    terms: Terms | None  # the order's programme; None: the item was never sold on an order
    placed_at: datetime | None
    delivered_at: datetime | None  # set when the order is delivered, and only then
    # The shop was in the programme and the listing carried the guarantee label when the order
    # was placed (merchants.services.guarantee_covers; leaving later keeps earlier orders).
    offered: bool
    # A claim on this order is open or was upheld (ACTIVE_STATES_SQL): 假一赔十 pays once per
    # order, so no second claim can succeed.
    claimed: bool = False


# The claim states that hold an order: open (filed … re-inspection) or upheld (paid out). The
# claims' unique indexes use it; claims.services.ACTIVE names the same states (a test keeps the
# two equal).
ACTIVE_STATES_SQL = "state IN ('filed', 'accepted', 'disputed', 'reinspection', 'upheld')"
ONE_CLAIM = msg("该订单已有处理中或已成立的理赔（每笔订单最多赔付一次）")


class Gap(StrEnum):
    """Why no guarantee applies, first one found in this order."""

    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    NO_ORDER = "no_order"
    PROGRAMME_NOT_RUNNING = "programme_not_running"
    NOT_OFFERED = "not_offered"
    NOT_DELIVERED = "not_delivered"
    WINDOW_CLOSED = "window_closed"
    CLAIMED = "claimed"


# What the consumer reads (page) or gets as the refusal (claim): plain words, both languages.
_WORDS: dict[Gap, Message] = {
    Gap.REVOKED: msg("证书已吊销，不能再凭它申请理赔。"),
    Gap.SUPERSEDED: msg("这张证书已被新证书替代，请查看新证书。"),
    Gap.NO_ORDER: msg("这件商品没有对应的订单，因此不享受理赔保障。"),
    Gap.PROGRAMME_NOT_RUNNING: msg("下单时该保障计划未在实行，因此本订单不享受理赔保障。"),
    Gap.NOT_OFFERED: msg(
        "下单时该店铺未开通保障服务，或商品未带保障标签，因此本订单不享受理赔保障。"
    ),
    Gap.NOT_DELIVERED: msg("订单尚未签收。签收后才能申请理赔。"),
    Gap.WINDOW_CLOSED: msg("签收已超过 {days} 天，理赔期已过。"),
    Gap.CLAIMED: ONE_CLAIM,
}
_REFUSALS: dict[Gap, type[DomainError]] = {
    Gap.REVOKED: Conflict,
    Gap.SUPERSEDED: Conflict,
    Gap.NO_ORDER: NotFound,
    Gap.PROGRAMME_NOT_RUNNING: Forbidden,
    Gap.NOT_OFFERED: Forbidden,
    Gap.NOT_DELIVERED: Conflict,
    Gap.WINDOW_CLOSED: Conflict,
    Gap.CLAIMED: Conflict,
}


@dataclass(frozen=True)
class Coverage:
    terms: Terms | None
    gap: Gap | None  # None: covered, a claim may be filed now
    claim_until: datetime | None = None  # the end of the claim window, when covered

    @property
    def covered(self) -> bool:
        return self.gap is None

    @property
    def message(self) -> Message:
        """Why not covered."""
        assert self.gap is not None
        days = self.terms.window_days if self.terms else 0
        return replace(_WORDS[self.gap], params=(("days", days),))  # the closed window's length

    def refusal(self) -> DomainError:
        """The error a claim gets when the order is not covered."""
        assert self.gap is not None
        return _REFUSALS[self.gap](self.message, code=self.gap.value)


def decide(facts: Facts, now: datetime) -> Coverage:
    """Covered when the certificate is still valid, the order was placed while its programme
    ran and the shop offered it on that listing, the order was delivered no more than the
    programme's window ago, and no claim on it is open or upheld."""
    terms = facts.terms
    if not facts.certificate_valid:
        return Coverage(terms, Gap.SUPERSEDED if facts.superseded else Gap.REVOKED)
    if terms is None or facts.placed_at is None:
        return Coverage(terms, Gap.NO_ORDER)
    if not terms.in_force_at(facts.placed_at):
        return Coverage(terms, Gap.PROGRAMME_NOT_RUNNING)
    if not facts.offered:
        return Coverage(terms, Gap.NOT_OFFERED)
    if facts.delivered_at is None:
        return Coverage(terms, Gap.NOT_DELIVERED)
    until = facts.delivered_at + timedelta(days=terms.window_days)
    if now > until:
        return Coverage(terms, Gap.WINDOW_CLOSED)
    if facts.claimed:
        return Coverage(terms, Gap.CLAIMED, until)
    return Coverage(terms, None, until)
