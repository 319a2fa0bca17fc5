"""One pure guard per claim transition: the conditions beyond role and source state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qc_app.claims.models import RejectionGround
from qc_app.errors import NotFound, ValidationFailed
from qc_app.i18n import msg

if TYPE_CHECKING:
    from qc_app.claims.workflow import ActorLike, ClaimLike


def _text(ctx: Mapping[str, Any], key: str) -> str:
    value = ctx.get(key)
    return value.strip() if isinstance(value, str) else ""


def _own_merchant(claim: ClaimLike, actor: ActorLike) -> None:
    # Another shop's claim reads as missing (404), as everywhere else.
    if actor.merchant_id != claim.merchant_id:
        raise NotFound(msg("未找到理赔"))


def guard_accept(claim: ClaimLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _own_merchant(claim, actor)


def guard_dispute(claim: ClaimLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    _own_merchant(claim, actor)
    if not _text(ctx, "note"):
        raise ValidationFailed(msg("异议须说明理由"))


def guard_reinspect(claim: ClaimLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if not _text(ctx, "note"):
        raise ValidationFailed(msg("复检须说明原因"))


def guard_uphold(claim: ClaimLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    postage = ctx.get("postage_fen")
    if not isinstance(postage, int) or isinstance(postage, bool) or postage < 0:
        raise ValidationFailed(msg("邮费须为非负整数（分）"))


def guard_reject(claim: ClaimLike, actor: ActorLike, ctx: Mapping[str, Any]) -> None:
    if ctx.get("ground") not in set(RejectionGround):
        raise ValidationFailed(msg("驳回须选择驳回理由"))
