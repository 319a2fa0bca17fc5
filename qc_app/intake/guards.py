"""One pure guard per item transition: the conditions beyond role and source state.

A guard raises a DomainError with the reason, or returns None to allow. Separation of duties
(intake ≠ analyst ≠ reviewer, 四眼原则) is enforced here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qc_app.errors import Conflict, Forbidden, ValidationFailed
from qc_app.i18n import Message, msg

if TYPE_CHECKING:
    from qc_app.intake.workflow import ActorLike, ItemLike


def _text(ctx: Mapping[str, Any], key: str) -> str:
    value = ctx.get(key)
    return value.strip() if isinstance(value, str) else ""


def guard_none(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """No condition beyond role and state."""


def guard_receive(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if ctx.get("mass_cg") is None:
        raise ValidationFailed(msg("收货必须称重"))


def guard_start_inspection(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if actor.id is not None and actor.id == item.received_by_id:
        raise Forbidden(
            msg("收货人不能检测同一物品"),
            code="separation_of_duties",
        )


def _accredited(ctx: Mapping[str, Any]) -> None:
    if not ctx.get("accredited", False):
        raise Forbidden(
            msg("检测机构资质（CMA）不在有效期内，不能出具或签发结果"),
            code="accreditation_lapsed",
        )


def guard_submit_result(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _accredited(ctx)
    if not ctx.get("in_scope", False):
        raise Forbidden(
            msg("检测机构的资质范围不含该材质类别（{family}）", family=ctx.get("family")),
            code="outside_scope",
        )


def _four_eyes(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """四眼原则: the reviewer is neither the analyst of the result nor the intake inspector,
    and belongs to the testing body that made the inspection."""
    if actor.id == ctx.get("analyst_id"):
        raise Forbidden(
            msg("审核人不能审核自己录入的检测结果"),
            code="separation_of_duties",
        )
    if actor.id == item.received_by_id:
        raise Forbidden(
            msg("收货人不能审核同一物品"),
            code="separation_of_duties",
        )
    if not ctx.get("same_body", False):
        raise Forbidden(
            msg("审核人须属于出具该检测结果的检测机构"),
            code="other_testing_body",
        )


def guard_approve(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _four_eyes(item, actor, ctx)
    _accredited(ctx)


def guard_send_back(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _four_eyes(item, actor, ctx)
    if not _text(ctx, "note"):
        raise ValidationFailed(msg("退回复检需要说明原因"))


def guard_issue_certificate(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if ctx.get("verdict") != "pass":
        raise Conflict(msg("只有合格的物品才能出证"))


def guard_pack(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    """Item, certificate, order and listing must all belong together (the station checks)."""
    problems: list[Message] = list(ctx.get("problems", [msg("未核对")]))
    if problems:
        raise Conflict(msg("不匹配：{problems}", problems=tuple(problems)), code="packing_mismatch")
    if not _text(ctx, "seal_no"):
        raise ValidationFailed(msg("请扫描防拆袋封签号"))


def guard_hold(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not _text(ctx, "reason"):
        raise ValidationFailed(msg("挂起需要原因"))


def guard_release(item: ItemLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not item.held_from:
        raise Conflict(msg("无法确定挂起前的状态"))
