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


def _accredited(ctx: Mapping[str, Any]) -> None:
    if not ctx.get("accredited", False):
        raise Forbidden(
            "检测机构资质（CMA）不在有效期内，不能出具或签发结果",
            "the testing body's accreditation (CMA) is not valid today: it cannot sign off",
            code="accreditation_lapsed",
        )


def guard_submit_result(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _accredited(ctx)
    if not ctx.get("in_scope", False):
        raise Forbidden(
            f"检测机构的资质范围不含该材质类别（{ctx.get('family')}）",
            f"the material family '{ctx.get('family')}' is outside the testing body's scope",
            code="outside_scope",
        )


def _four_eyes(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """四眼原则: the reviewer is neither the analyst of the result nor the intake inspector,
    and belongs to the testing body that made the inspection."""
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
    if not ctx.get("same_body", False):
        raise Forbidden(
            "审核人须属于出具该检测结果的检测机构",
            "the reviewer must belong to the testing body that made the inspection",
            code="other_testing_body",
        )


def guard_approve(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _four_eyes(item, actor, ctx)
    _accredited(ctx)


def guard_send_back(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _four_eyes(item, actor, ctx)
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
