from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from qc_app import storage
from qc_app.certificates.services import certificate_of
from qc_app.db import request_session
from qc_app.errors import not_found
from qc_app.inspection.services import inspections_of
from qc_app.intake import services
from qc_app.intake.workflow import ItemState, allowed
from qc_app.listings.services import merchant_listings
from qc_app.web import actor, back, config, now, roles_required

bp = Blueprint("intake", __name__)
STAFF = ("inspector", "analyst", "reviewer", "admin")
NEW_ROWS = 5


# -- merchant: consignments --------------------------------------------------------------------


@bp.get("/m/consignments")
@roles_required("merchant")
def consignments() -> Any:
    db = request_session()
    return render_template(
        "intake/consignments.html",
        consignments=services.merchant_consignments(session=db, actor=actor()),
        listings=merchant_listings(session=db, actor=actor()),
        rows=range(NEW_ROWS),
    )


@bp.post("/m/consignments")
@roles_required("merchant")
def create_consignment() -> Any:
    form = request.form
    rows = [
        {
            "listing_id": form.get(f"listing_{i}"),
            "mass_g": form.get(f"mass_{i}"),
            "description": form.get(f"description_{i}", ""),
        }
        for i in range(NEW_ROWS)
        if form.get(f"listing_{i}")
    ]
    consignment = services.create_consignment(
        session=request_session(), actor=actor(), items=rows, now=now()
    )
    return redirect(url_for("intake.consignment", code=consignment.code))


@bp.get("/m/consignments/<code>")
@roles_required("merchant", *STAFF)
def consignment(code: str) -> Any:
    db = request_session()
    found = services.get_consignment(session=db, actor=actor(), code=code)
    items = services.consignment_items(session=db, consignment=found)
    return render_template(
        "intake/consignment.html",
        consignment=found,
        items=items,
        failures=services.failure_notes(session=db, items=items),
    )


# -- warehouse: intake, holds, returns -------------------------------------------------------


@bp.get("/intake")
@roles_required("inspector")
def index() -> Any:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("intake.receive_form", code=code))
    waiting = services.items_in(session=request_session(), states=[ItemState.DECLARED], limit=50)
    return render_template("intake/index.html", waiting=waiting)


@bp.get("/intake/<code>")
@roles_required("inspector")
def receive_form(code: str) -> Any:
    item = services.get_item(session=request_session(), actor=actor(), code=code)
    return render_template("intake/receive.html", item=item)


@bp.post("/intake/<code>")
@roles_required("inspector")
def receive(code: str) -> Any:
    photo = request.files.get("photo")
    item = services.receive_item(
        session=request_session(),
        actor=actor(),
        code=code,
        mass_g=request.form.get("mass_g"),
        photo=photo.read() if photo and photo.filename else None,
        files=config().INSTANCE_PATH,
        now=now(),
    )
    return redirect(url_for("intake.index", done=item.code))


@bp.post("/items/<code>/hold")
@roles_required("inspector", "admin")
def hold(code: str) -> Any:
    services.hold_item(
        session=request_session(),
        actor=actor(),
        code=code,
        reason=request.form.get("reason", ""),
        now=now(),
    )
    return redirect(url_for("intake.item", code=code))


@bp.post("/items/<code>/release")
@roles_required("inspector", "admin")
def release(code: str) -> Any:
    services.release_item(session=request_session(), actor=actor(), code=code, now=now())
    return redirect(url_for("intake.item", code=code))


@bp.get("/returns")
@roles_required("inspector")
def returns() -> Any:
    items = services.items_in(session=request_session(), states=[ItemState.RETURN_TO_MERCHANT])
    return render_template("intake/returns.html", items=items)


@bp.post("/returns/<code>")
@roles_required("inspector")
def return_shipped(code: str) -> Any:
    services.return_shipped(
        session=request_session(),
        actor=actor(),
        code=code,
        waybill_no=request.form.get("waybill_no", ""),
        now=now(),
    )
    return back(url_for("intake.returns"))


# -- everyone with access: the item's timeline ------------------------------------------------


@bp.get("/items/<code>")
@roles_required("merchant", *STAFF)
def item(code: str) -> Any:
    db = request_session()
    found, events = services.timeline(session=db, actor=actor(), code=code)
    return render_template(
        "intake/item.html",
        item=found,
        events=events,
        photos=services.item_photos(session=db, item=found),
        inspections=inspections_of(session=db, item=found),
        certificate=certificate_of(session=db, item=found),
        actions=allowed(found, actor().role),
    )


@bp.get("/items/<code>/photos/<digest>.jpg")
@roles_required("merchant", *STAFF)
def photo(code: str, digest: str) -> Any:
    db = request_session()
    found = services.get_item(session=db, actor=actor(), code=code)
    if digest not in {p.sha256 for p in services.item_photos(session=db, item=found)}:
        raise not_found("照片", "photo")
    return image_response(storage.load(config().INSTANCE_PATH, "photos", digest, ".jpg"))


def image_response(data: bytes) -> Response:
    response = Response(data, mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
