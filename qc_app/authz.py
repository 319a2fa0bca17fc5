"""Who may do what, in one place: the roles, the permissions, and the one helper that views
(web.permission_required), the API (api.views.token_permission) and services all ask.

A workflow transition is its own permission: its table row names the roles allowed, and
`authorize` reads them there. Everything else is a `Permission` below. Merchant isolation
(`ensure_visible`) answers 404, never 403, so the answer does not confirm the record exists.
Pure: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from qc_app.errors import DomainError, Forbidden, NotFound, ValidationFailed
from qc_app.i18n import Message, msg, pmsg


class Role(StrEnum):
    MERCHANT = "merchant"
    INSPECTOR = "inspector"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLE_LABELS: Mapping[Role, Message] = {
    Role.MERCHANT: pmsg("role", "商家"),
    Role.INSPECTOR: pmsg("role", "质检员"),
    Role.ANALYST: pmsg("role", "检测员"),
    Role.REVIEWER: pmsg("role", "审核员"),
    Role.ADMIN: pmsg("role", "平台管理员"),
}
LAB = frozenset({Role.ANALYST, Role.REVIEWER})
STAFF = frozenset(Role) - {Role.MERCHANT}
# Shared terminals at the warehouse and the lab: the shorter idle limit (config.IDLE_TIMEOUTS).
TERMINALS = frozenset({Role.INSPECTOR, Role.ANALYST, Role.REVIEWER})


@dataclass(frozen=True)
class Permission:
    """What some roles may do outside the workflow tables, and the refusal for the others."""

    name: str
    roles: frozenset[Role]
    refusal: Message


def _p(name: str, roles: set[Role] | frozenset[Role], refusal: Message) -> Permission:
    return Permission(name, frozenset(roles), refusal)


_M, _I, _A = {Role.MERCHANT}, {Role.INSPECTOR}, {Role.ADMIN}
SIGNED_IN = _p("signed_in", frozenset(Role), msg("登录后可用"))
MERCHANT_PORTAL = _p("merchant_portal", _M, msg("只有商家可以使用此功能"))
WAREHOUSE = _p("warehouse", _I, msg("只有质检员可以使用此功能"))
LAB_TERMINAL = _p("lab_terminal", LAB, msg("只有检测人员可以使用此功能"))
PLATFORM = _p("platform", _A, msg("只有平台管理员可以执行此操作"))
DASHBOARD = _p("dashboard", _I | _A, msg("您的角色无权查看看板"))
# Consignments, orders and their labels: the shop, the warehouse and the platform.
PARCELS = _p("parcels", _M | _I | _A, msg("您的角色无权查看此包裹"))
CLAIMS = _p("claims", _M | _A, msg("您的角色无权查看理赔"))
# A warehouse alarm and its hold end only with a supervisor's note.
CLEAR_ALARMS = _p("clear_alarms", _A, msg("只有主管（平台管理员）可以解除警报"))
SEE_ALARMS = _p("see_alarms", STAFF, msg("商家看不到质检仓的警报"))
# Webhook subscriptions and their deliveries: the platform's integration, managed by admins.
WEBHOOKS = _p("webhooks", _A, msg("只有平台管理员可以管理 Webhook 订阅"))
# The pull feed of events: the platform (admin tokens) and each shop (its own events only).
EVENTS = _p("events", _M | _A, msg("您的角色无权读取事件"))


class Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def merchant_id(self) -> int | None: ...


class TransitionLike(Protocol):
    """A workflow transition as authorisation sees it: its roles and its label."""

    @property
    def roles(self) -> frozenset[Role]: ...

    @property
    def label(self) -> Message: ...


# What authorisation is asked about: a permission or a workflow transition.
Guarded = Permission | TransitionLike


def allows(actor: Viewer | None, what: Guarded) -> bool:
    """Whether the actor's role may do `what` (a merchant only as a merchant of some shop)."""
    if actor is None or actor.role not in what.roles:
        return False
    return actor.role != Role.MERCHANT or actor.merchant_id is not None


def second_factor_required(actor: Viewer) -> bool:
    """Staff decide what a consumer is told and what a merchant pays: their logins, and their
    API tokens, need the TOTP second factor (ASVS 6.3.3). Merchants may enrol one."""
    return actor.role in STAFF


def authorize(actor: Viewer, what: Guarded) -> None:
    """Refuse (403) unless the actor's role may do `what`: the one check every layer asks."""
    if allows(actor, what):
        return
    if isinstance(what, Permission):
        raise Forbidden(what.refusal)
    raise Forbidden(
        msg(
            "角色 {role} 不能执行“{action}”",
            role=actor.role,
            action=what.label,
        ),
        code="role_not_allowed",
    )


def refusal(check: Callable[[], object]) -> Message | None:
    """What a page may offer: run the check the action itself runs (`authorize`, a transition's
    check with its guard) and return its refusal, or None when the button may be shown. Only a
    form's missing input (ValidationFailed: the note a reviewer will type) does not hide it."""
    try:
        check()
    except ValidationFailed:
        return None
    except DomainError as exc:
        return exc.message
    return None


def ensure_visible(viewer: Viewer, merchant_id: int, missing: Message) -> None:
    """404, not 403, for another merchant's record: the answer must not confirm it exists, so
    `missing` is the same message the record's own lookup gives when there is no such row."""
    if viewer.role == Role.MERCHANT and viewer.merchant_id != merchant_id:
        raise NotFound(missing)
