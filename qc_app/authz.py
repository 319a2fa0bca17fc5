"""Who may do what, in one place: the roles, the permissions, and the one helper that views
(web.permission_required), the API (api.views.token_permission) and services all ask.

A workflow transition is its own permission: its table row names the roles allowed, and
`authorize` reads them there. Everything else is a `Permission` below. Merchant isolation
(`ensure_visible`) answers 404, never 403, so the answer does not confirm the record exists.
Pure: no Flask, no session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from qc_app.errors import Forbidden, NotFound


class Role(StrEnum):
    MERCHANT = "merchant"
    INSPECTOR = "inspector"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ADMIN = "admin"


LAB = frozenset({Role.ANALYST, Role.REVIEWER})
STAFF = frozenset(Role) - {Role.MERCHANT}


@dataclass(frozen=True)
class Permission:
    """What some roles may do outside the workflow tables, and the refusal for the others."""

    name: str
    roles: frozenset[Role]
    label_zh: str
    label_en: str


def _p(name: str, roles: set[Role] | frozenset[Role], zh: str, en: str) -> Permission:
    return Permission(name, frozenset(roles), zh, en)


_M, _I, _A = {Role.MERCHANT}, {Role.INSPECTOR}, {Role.ADMIN}
SIGNED_IN = _p("signed_in", frozenset(Role), "登录后可用", "sign in first")
MERCHANT_PORTAL = _p("merchant_portal", _M, "只有商家可以使用此功能", "only merchants may do this")
WAREHOUSE = _p("warehouse", _I, "只有质检员可以使用此功能", "only inspectors may do this")
LAB_TERMINAL = _p("lab_terminal", LAB, "只有检测人员可以使用此功能", "only the lab may do this")
PLATFORM = _p("platform", _A, "只有平台管理员可以执行此操作", "only platform admins may do this")
DASHBOARD = _p("dashboard", _I | _A, "您的角色无权查看看板", "your role may not read the dashboard")
# Consignments, orders and their labels: the shop, the warehouse and the platform.
PARCELS = _p("parcels", _M | _I | _A, "您的角色无权查看此包裹", "your role may not see this parcel")
CLAIMS = _p("claims", _M | _A, "您的角色无权查看理赔", "your role may not read claims")
# A warehouse alarm and its hold end only with a supervisor's note.
CLEAR_ALARMS = _p(
    "clear_alarms",
    _A,
    "只有主管（平台管理员）可以解除警报",
    "only a supervisor (admin) clears alarms",
)
SEE_ALARMS = _p("see_alarms", STAFF, "商家看不到质检仓的警报", "merchants do not see alarms")


class Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def merchant_id(self) -> int | None: ...


class Guarded(Protocol):
    """A workflow transition as authorisation sees it: its roles and its label."""

    @property
    def roles(self) -> frozenset[Role]: ...

    @property
    def label_zh(self) -> str: ...

    @property
    def label_en(self) -> str: ...


def allows(actor: Viewer | None, what: Guarded) -> bool:
    """Whether the actor's role may do `what` (a merchant only as a merchant of some shop)."""
    if actor is None or actor.role not in what.roles:
        return False
    return actor.role != Role.MERCHANT or actor.merchant_id is not None


def authorize(actor: Viewer, what: Guarded) -> None:
    """Refuse (403) unless the actor's role may do `what`: the one check every layer asks."""
    if allows(actor, what):
        return
    if isinstance(what, Permission):
        raise Forbidden(what.label_zh, what.label_en)
    raise Forbidden(
        f"角色 {actor.role} 不能执行“{what.label_zh}”",
        f"role {actor.role} may not {what.label_en}",
        code="role_not_allowed",
    )


def ensure_visible(viewer: Viewer, merchant_id: int, what_zh: str, what_en: str) -> None:
    """404, not 403, for another merchant's record: the answer must not confirm it exists."""
    if viewer.role == Role.MERCHANT and viewer.merchant_id != merchant_id:
        raise NotFound(f"未找到{what_zh}", f"{what_en} not found")
