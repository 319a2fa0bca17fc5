"""One pure guard per item transition: the conditions beyond role and source state.

A guard takes the item, the actor and the facts it needs as a frozen dataclass (a missing fact
is a type error, not a silent pass), and raises a DomainError with the reason or returns None.
Separation of duties (intake ≠ analyst ≠ reviewer, 四眼原则) is enforced here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.i18n import Message, msg
from qc_app.statemachine import Actor, NoFacts


class ItemLike(Protocol):
    @property
    def held_from(self) -> str | None: ...

    @property
    def received_by_id(self) -> int | None: ...


@dataclass(frozen=True)
class Weighing:
    """receive: the mass the warehouse balance showed."""

    mass_cg: int | None


@dataclass(frozen=True)
class LabResult:
    """submit_result: the testing body's accreditation today and scope for the family."""

    accredited: bool
    in_scope: bool
    family: str


@dataclass(frozen=True)
class Review:
    """approve_pass / approve_fail: who measured, and the reviewer's own lab."""

    analyst_id: int
    same_body: bool
    accredited: bool


@dataclass(frozen=True)
class SendBack(Review):
    """send_back: a review plus the note for the analyst."""

    note: str | None


@dataclass(frozen=True)
class Authorship:
    """withdraw_result: who recorded the result being withdrawn."""

    analyst_id: int


@dataclass(frozen=True)
class Verdict:
    """issue_certificate: the verdict of the approved inspection."""

    verdict: str | None


@dataclass(frozen=True)
class Packing:
    """pack: what the packing station read, to decide whether everything belongs together."""

    order_id: int
    order_open: bool
    order_listing_id: int
    order_merchant_id: int
    item_listing_id: int
    item_merchant_id: int
    item_order_id: int | None
    bound_item_id: int | None  # the item the order is already bound to, if any
    item_id: int
    certificate_item_id: int
    certificate_valid: bool
    seal_no: str | None
    seal_used_by: str | None  # the order number already sealed with this seal, if any


@dataclass(frozen=True)
class Reason:
    """hold / claim_return: why."""

    reason: str | None


def _text(value: str | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def guard_receive(item: ItemLike, actor: Actor, facts: Weighing) -> None:
    if facts.mass_cg is None:
        raise ValidationFailed(msg("收货必须称重"))


def guard_start_inspection(item: ItemLike, actor: Actor, facts: NoFacts) -> None:
    if actor.id is not None and actor.id == item.received_by_id:
        raise Forbidden(
            msg("收货人不能检测同一物品"),
            code="separation_of_duties",
        )


def _accredited(accredited: bool) -> None:
    if not accredited:
        raise Forbidden(
            msg("检测机构资质（CMA）不在有效期内，不能出具或签发结果"),
            code="accreditation_lapsed",
        )


def guard_submit_result(item: ItemLike, actor: Actor, facts: LabResult) -> None:
    _accredited(facts.accredited)
    if not facts.in_scope:
        raise Forbidden(
            msg("检测机构的资质范围不含该材质类别（{family}）", family=facts.family),
            code="outside_scope",
        )


def _four_eyes(item: ItemLike, actor: Actor, facts: Review) -> None:
    """四眼原则: the reviewer is neither the analyst of the result nor the intake inspector,
    and belongs to the testing body that made the inspection."""
    if actor.id is None or actor.id == facts.analyst_id:
        raise Forbidden(
            msg("审核人不能审核自己录入的检测结果"),
            code="separation_of_duties",
        )
    if actor.id == item.received_by_id:
        raise Forbidden(
            msg("收货人不能审核同一物品"),
            code="separation_of_duties",
        )
    if not facts.same_body:
        raise Forbidden(
            msg("审核人须属于出具该检测结果的检测机构"),
            code="other_testing_body",
        )


def guard_approve(item: ItemLike, actor: Actor, facts: Review) -> None:
    _four_eyes(item, actor, facts)
    _accredited(facts.accredited)


def guard_send_back(item: ItemLike, actor: Actor, facts: SendBack) -> None:
    _four_eyes(item, actor, facts)
    if not _text(facts.note):
        raise ValidationFailed(msg("退回复检需要说明原因"))


def guard_withdraw_result(item: ItemLike, actor: Actor, facts: Authorship) -> None:
    """Only the analyst who recorded a result takes it back (the reviewer sends it back)."""
    if actor.id is None or actor.id != facts.analyst_id:
        raise Forbidden(
            msg("只有录入该检测结果的检测员可以撤回"),
            code="not_your_result",
        )


def guard_issue_certificate(item: ItemLike, actor: Actor, facts: Verdict) -> None:
    if facts.verdict != "pass":
        raise Conflict(msg("只有合格的物品才能出证"))


def mismatches(facts: Packing) -> list[Message]:
    """Everything that does not belong together at the packing station."""
    checks = [
        (not facts.order_open, msg("订单不是待打包状态")),
        (
            facts.item_listing_id != facts.order_listing_id
            or facts.item_merchant_id != facts.order_merchant_id,
            msg("物品不属于该订单的商品"),
        ),
        (
            facts.item_order_id is not None and facts.item_order_id != facts.order_id,
            msg("物品已绑定另一订单"),
        ),
        (
            facts.bound_item_id is not None and facts.bound_item_id != facts.item_id,
            msg("订单已绑定其他物品"),
        ),
        (facts.certificate_item_id != facts.item_id, msg("证书不属于该物品")),
        (not facts.certificate_valid, msg("该证书已吊销")),
    ]
    problems = [said for failed, said in checks if failed]
    if facts.seal_used_by is not None:
        problems.append(
            msg(
                "封签 {seal} 已用于另一个包裹（订单 {order_no}）",
                seal=facts.seal_no,
                order_no=facts.seal_used_by,
            )
        )
    return problems


def guard_pack(item: ItemLike, actor: Actor, facts: Packing) -> None:
    """Item, certificate, order and listing must all belong together, under a scanned seal."""
    problems = mismatches(facts)
    if problems:
        raise Conflict(msg("不匹配：{problems}", problems=tuple(problems)), code="packing_mismatch")
    if not _text(facts.seal_no):
        raise ValidationFailed(msg("请扫描防拆袋封签号"))


def guard_hold(item: ItemLike, actor: Actor, facts: Reason) -> None:
    if not _text(facts.reason):
        raise ValidationFailed(msg("挂起需要原因"))


def guard_release(item: ItemLike, actor: Actor, facts: NoFacts) -> None:
    if not item.held_from:
        raise Conflict(msg("无法确定挂起前的状态"))
