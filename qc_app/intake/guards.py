"""One pure guard per item transition: the conditions beyond role and source state.

A guard raises a DomainError with the reason, or returns None to allow. Separation of duties
(intake ≠ analyst ≠ reviewer, 四眼原则) is enforced here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qc_app.errors import Conflict, Forbidden, ValidationFailed

if TYPE_CHECKING:
    from qc_app.intake.workflow import ActorLike, ItemLike


def _text(ctx: Mapping[str, Any], key: str) -> str:
    value = ctx.get(key)
    return value.strip() if isinstance(value, str) else ""


def guard_none(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """No condition beyond role and state."""


def guard_receive(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if ctx.get("mass_cg") is None:
        raise ValidationFailed("收货必须称重", "intake needs the measured mass")


def guard_start_inspection(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if actor.id is not None and actor.id == item.received_by_id:
        raise Forbidden(
            "收货人不能检测同一物品",
            "the intake inspector cannot inspect the item",
            code="separation_of_duties",
        )


def guard_submit_result(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not ctx.get("accredited", False):
        raise Forbidden(
            "检测机构资质已过期或未设置，不能出具结果",
            "the testing body's accreditation has lapsed or is not set",
            code="accreditation_lapsed",
        )


def guard_approve(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """四眼原则: the reviewer is neither the analyst of the result nor the intake inspector."""
    if actor.id == ctx.get("analyst_id"):
        raise Forbidden(
            "审核人不能审核自己录入的检测结果",
            "a reviewer cannot approve their own inspection",
            code="separation_of_duties",
        )
    if actor.id == item.received_by_id:
        raise Forbidden(
            "收货人不能审核同一物品",
            "the intake inspector cannot review the item",
            code="separation_of_duties",
        )


def guard_send_back(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    guard_approve(item, actor, ctx)
    if not _text(ctx, "note"):
        raise ValidationFailed("退回复检需要说明原因", "sending back needs a note for the analyst")


def guard_issue_certificate(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if ctx.get("verdict") != "pass":
        raise Conflict("只有合格的物品才能出证", "only items that passed can be certified")


def guard_pack(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """Item, certificate, order and listing must all belong together (the station checks)."""
    problems: list[tuple[str, str]] = list(ctx.get("problems", [("未核对", "not checked")]))
    if problems:
        raise Conflict(
            "不匹配：" + "；".join(zh for zh, _ in problems),
            "mismatch: " + "; ".join(en for _, en in problems),
            code="packing_mismatch",
        )
    if not _text(ctx, "seal_no"):
        raise ValidationFailed(
            "请扫描防拆袋封签号", "scan the seal number of the tamper-evident bag"
        )


def guard_hold(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not _text(ctx, "reason"):
        raise ValidationFailed("挂起需要原因", "a hold needs a reason")


def guard_release(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not item.held_from:
        raise Conflict("无法确定挂起前的状态", "the state before the hold is unknown")
