"""The admin's webhook page: subscriptions (a new one's secret shown once), deliveries with
their attempts and answers, pause / resume, replay one or every dead-lettered delivery."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qc_app.authz import WEBHOOKS
from qc_app.db import request_session
from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.outbox import services
from qc_app.outbox.events import EVENT_TYPES
from qc_app.outbox.models import DeliveryState
from qc_app.web import actor, config, form_again, now, permission_required, translate

bp = Blueprint("outbox", __name__)
STATE_LABELS = {
    DeliveryState.PENDING: msg("重试中"),
    DeliveryState.DELIVERED: msg("已送达"),
    DeliveryState.DEAD: msg("死信"),
}
PAGE = "/admin/webhooks"


def _confirmed() -> None:
    """Replaying sends events again to a live endpoint: the form's box must be ticked."""
    if request.form.get("confirm") != "yes":
        raise ValidationFailed(msg("请勾选确认后再重放"))


@bp.get(PAGE)
@permission_required(WEBHOOKS)
def index() -> Any:
    return render_template("outbox/webhooks.html", **_page())


def _page() -> dict[str, Any]:
    """What the webhook page shows: the subscriptions, the deliveries in the chosen state."""
    session = request_session()
    state = request.args.get("state")
    chosen = DeliveryState(state) if state in set(DeliveryState) else None
    return {
        "subscriptions": services.subscriptions(session=session, actor=actor()),
        "deliveries": services.deliveries(session=session, actor=actor(), state=chosen),
        "event_types": EVENT_TYPES,
        "state": chosen,
        "state_labels": STATE_LABELS,
    }


@bp.post(PAGE)
@permission_required(WEBHOOKS)
def create() -> Any:
    typed = {key: request.form.get(key, "") for key in ("url", "description")}
    chosen = request.form.getlist("event_types")
    try:
        subscription, secret = services.create_subscription(
            session=request_session(),
            actor=actor(),
            url=typed["url"],
            event_types=chosen,
            description=typed["description"],
            key=config().WEBHOOK_SEAL_KEY,
            now=now(),
        )
    except ValidationFailed as exc:
        return form_again(
            "outbox/webhooks.html", exc, values={**typed, "event_types": chosen}, **_page()
        )
    # Shown on this one page and never again: the database keeps it sealed.
    return render_template("outbox/created.html", subscription=subscription, secret=secret)


@bp.post(f"{PAGE}/<int:subscription_id>/active")
@permission_required(WEBHOOKS)
def set_active(subscription_id: int) -> Any:
    active = request.form.get("active") == "yes"
    services.set_active(
        session=request_session(),
        actor=actor(),
        subscription_id=subscription_id,
        active=active,
        now=now(),
    )
    flash(translate(msg("已恢复投递") if active else msg("已暂停投递")), "success")
    return redirect(url_for("outbox.index"))


@bp.post(f"{PAGE}/deliveries/<int:delivery_id>/replay")
@permission_required(WEBHOOKS)
def replay(delivery_id: int) -> Any:
    _confirmed()
    services.replay(session=request_session(), actor=actor(), delivery_id=delivery_id, now=now())
    flash(translate(msg("已重新排队投递 #{id}", id=delivery_id)), "success")
    return redirect(url_for("outbox.index"))


@bp.post(f"{PAGE}/replay-dead")
@permission_required(WEBHOOKS)
def replay_dead() -> Any:
    _confirmed()
    count = services.replay_dead(
        session=request_session(), actor=actor(), subscription_id=None, now=now()
    )
    flash(translate(msg("已重新排队 {count} 条死信投递", count=count)), "success")
    return redirect(url_for("outbox.index"))
