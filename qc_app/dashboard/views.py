from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from qc_app.authz import CLEAR_ALARMS, DASHBOARD, PLATFORM, allows
from qc_app.dashboard import charts, stats
from qc_app.db import request_session
from qc_app.i18n import msg
from qc_app.items import services as items
from qc_app.items.workflow import STATE_LABELS, ItemState
from qc_app.rules.engine import load_ruleset
from qc_app.web import actor, now, permission_required, translate

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@permission_required(DASHBOARD)
def index() -> Any:
    view = stats.overview(request_session(), today=now().date())
    return render_template(
        "dashboard/index.html",
        view=view,
        state_chart=charts.bar_chart(
            [(translate(STATE_LABELS[ItemState(s)]), n) for s, n in view.states],
            title=translate(msg("物品状态")),
        ),
        daily_chart=charts.column_chart(
            [(day[5:], received) for day, received, _ in view.daily],
            title=translate(msg("每日收货件数")),
        ),
        certified_chart=charts.column_chart(
            [(day[5:], issued) for day, _, issued in view.daily],
            title=translate(msg("每日出证数")),
            colour="#8a6d1d",
        ),
        material_chart=charts.bar_chart(
            [(translate(load_ruleset().material_name(r.key)), r.percent) for r in view.by_material],
            title=translate(msg("合格率（按材质）")),
            unit="%",
            maximum=100,
            colour="#157347",
        ),
        merchant_chart=charts.bar_chart(
            [(r.key, r.percent) for r in view.by_merchant],
            title=translate(msg("合格率（按商家）")),
            unit="%",
            maximum=100,
            colour="#157347",
        ),
        can_clear=allows(actor(), CLEAR_ALARMS),
    )


@bp.get("/dashboard.csv")
@permission_required(PLATFORM)
def export() -> Any:
    view = stats.overview(request_session(), today=now().date())
    out = io.StringIO()
    csv.writer(out).writerows(stats.csv_rows(view))
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="qc-dashboard.csv"'
    return response


@bp.post("/dashboard/alarms/<int:alarm_id>/clear")
@permission_required(CLEAR_ALARMS)
def clear_alarm(alarm_id: int) -> Any:
    item = items.clear_alarm(
        session=request_session(),
        actor=actor(),
        alarm_id=alarm_id,
        note=request.form.get("note", ""),
        now=now(),
    )
    flash((translate(msg("警报已解除 "))) + item.code, "success")
    return redirect(url_for("dashboard.index"))
