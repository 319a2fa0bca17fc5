from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from qc_app.authz import PLATFORM, WAREHOUSE
from qc_app.db import request_session
from qc_app.errors import ValidationFailed
from qc_app.i18n import msg
from qc_app.items import services as items
from qc_app.items.proof import VIEW_LABELS
from qc_app.merchants.services import merchant_choices
from qc_app.orders import services
from qc_app.units import cg_to_mass
from qc_app.warehouse import once
from qc_app.web import (
    Listing,
    actor,
    files,
    form_again,
    list_page,
    now,
    permission_required,
    refusals_back_to,
    render_list,
    station,
    translate,
)

bp = Blueprint("orders", __name__)


@bp.get("/packing")
@permission_required(WAREHOUSE)
def packing() -> Any:
    """The packing station; after a pack (`?item=`), the packing photo beside the intake set,
    so the packer sees at once that the piece in the bag is the one received."""
    db = request_session()
    compared = None
    if request.args.get("item"):
        item = items.get_item(session=db, actor=actor(), code=request.args["item"])
        photos = items.item_photos(session=db, item=item)
        packed = [p for p in photos if p.kind == "packing"]
        compared = (item, packed[-1] if packed else None, items.proof_photos(photos))
    return render_template(
        "orders/packing.html",
        orders=services.open_orders(session=db),
        once=once.new_token(),
        compared=compared,
        view_labels=VIEW_LABELS,
    )


def _packing_page(**_: Any) -> str:
    return url_for("orders.packing")


@bp.post("/packing")
@permission_required(WAREHOUSE)
@refusals_back_to(_packing_page)
def pack() -> Any:
    form = request.form
    photo = request.files.get("photo")
    order = services.pack(
        session=request_session(),
        actor=actor(),
        waybill_no=form.get("waybill_no", ""),
        item_code=form.get("item_code", ""),
        certificate_scan=form.get("certificate", ""),
        seal_no=form.get("seal_no", ""),
        mass_g=form.get("mass_g"),
        photo=photo.read() if photo and photo.filename else None,
        files=files(),
        station=station("packing"),
        once_key=form.get("once"),
        now=now(),
    )
    seal, grams = order.seal_no or "", f"{cg_to_mass(order.packed_mass_cg or 0)} g"
    item_code = form.get("item_code", "").strip().upper()
    flash(
        translate(
            msg(
                "已打包 {order_no} · {item_code} · 封签 {seal} · {grams}",
                order_no=order.order_no,
                item_code=item_code,
                seal=seal,
                grams=grams,
            )
        ),
        "success",
    )
    return redirect(url_for("orders.packing", item=item_code))


@bp.post("/packing/<waybill_no>/ship")
@permission_required(WAREHOUSE)
@refusals_back_to(_packing_page)
def ship(waybill_no: str) -> Any:
    order = services.ship(
        session=request_session(), actor=actor(), waybill_no=waybill_no, now=now()
    )
    flash(translate(msg("已发货 {order_no}", order_no=order.order_no)), "success")
    return redirect(url_for("orders.packing"))


@bp.get("/admin/orders")
@permission_required(PLATFORM)
def admin() -> Any:
    return render_list("orders/admin.html", _orders(), report=None)


def _orders() -> Listing | Response:
    return list_page(services.order_list(), merchants=merchant_choices(request_session()))


@bp.post("/admin/orders/import")
@permission_required(PLATFORM)
def import_csv() -> Any:
    """All rows or none: a wrong row is listed by its line; a refused file (none chosen, not a
    CSV, a column missing) is said under the file field. Either way the file is chosen again."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(msg("请选择 CSV 文件"))
        report = services.import_orders_csv(
            session=request_session(), actor=actor(), data=upload.read(), now=now()
        )
    except ValidationFailed as exc:
        return form_again(
            "orders/admin.html", exc, errors=exc.fields or {"file": exc.message}, listing=_orders()
        )
    page, status = render_list("orders/admin.html", _orders(), report=report)
    return page, 422 if report.errors else status
