from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qc_app.db import request_session
from qc_app.orders import services
from qc_app.web import actor, locale, now, roles_required

bp = Blueprint("orders", __name__)


@bp.get("/packing")
@roles_required("inspector")
def packing() -> Any:
    return render_template(
        "orders/packing.html", orders=services.open_orders(session=request_session())
    )


@bp.post("/packing")
@roles_required("inspector")
def pack() -> Any:
    form = request.form
    order = services.pack(
        session=request_session(),
        actor=actor(),
        waybill_no=form.get("waybill_no", ""),
        item_code=form.get("item_code", ""),
        certificate_scan=form.get("certificate", ""),
        seal_no=form.get("seal_no", ""),
        now=now(),
    )
    flash(("已打包 " if locale() == "zh" else "Packed ") + order.order_no, "success")
    return redirect(url_for("orders.packing"))


@bp.post("/packing/<waybill_no>/ship")
@roles_required("inspector")
def ship(waybill_no: str) -> Any:
    order = services.ship(
        session=request_session(), actor=actor(), waybill_no=waybill_no, now=now()
    )
    flash(("已发货 " if locale() == "zh" else "Shipped ") + order.order_no, "success")
    return redirect(url_for("orders.packing"))
