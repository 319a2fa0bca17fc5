from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from qc_app import storage
from qc_app.authz import MERCHANT_PORTAL, SEE_ALARMS, SIGNED_IN, WAREHOUSE, allows
from qc_app.certificates.lookup import certificate_of
from qc_app.codes import normalize
from qc_app.db import request_session
from qc_app.errors import NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.inspection.services import history
from qc_app.intake import results, services
from qc_app.items import proof
from qc_app.items import services as items
from qc_app.items.timeline import custody_rows
from qc_app.items.workflow import MACHINE, ItemState
from qc_app.listings import consistency
from qc_app.listings import services as listings
from qc_app.listings.services import merchant_listings
from qc_app.merchants.models import Merchant
from qc_app.merchants.services import current_membership, merchant_choices
from qc_app.programmes import services as programmes
from qc_app.programmes.models import Programme
from qc_app.rules.engine import load_ruleset
from qc_app.rules.pieces import articles
from qc_app.units import yuan_to_fen
from qc_app.warehouse import alarms, once
from qc_app.web import (
    Confirmation,
    actor,
    back,
    confirm_or_act,
    files,
    form_again,
    list_page,
    now,
    permission_required,
    refusals_back_to,
    render_list,
    station,
    translate,
    upload_response,
)

bp = Blueprint("intake", __name__)
NEW_ROWS = 3  # blank rows on a new consignment form; the merchant adds more as needed
ROW = re.compile(r"rows-(\d+)-")
# A row's typed fields, named rows-<n>-<field> (the service's spec keys, but the price in yuan).
TYPED = (
    "listing_id",
    "declared_material",
    "mass_g",
    "price_yuan",
    "description",
    "order_no",
    "article_type",
    "components",
)


@bp.app_context_processor
def _declared_materials() -> dict[str, Any]:
    # The merchant consignment pages name declared materials and article types.
    rules = load_ruleset()
    return {"declared_materials": rules.declarations, "article_types": articles(rules)}


# -- merchant: consignments --------------------------------------------------------------------


@bp.get("/m/consignments")
@permission_required(MERCHANT_PORTAL)
def consignments() -> Any:
    return _consignments_page([{} for _ in range(NEW_ROWS)])


def _consignments_page(
    rows: list[dict[str, str]],
    *,
    errors: Any = None,
    refused: Any = None,
    photos_dropped: bool = False,
) -> Any:
    """The merchant's consignments and the new-consignment form: its rows as typed (blank
    ones for a new form), each problem next to its field."""
    db = request_session()
    page = render_list(
        "intake/consignments.html",
        list_page(
            services.consignment_list(actor=actor()),
            opens=lambda row: url_for("intake.consignment", code=row.code),
        ),
        listings=merchant_listings(session=db, actor=actor()),
        rows=rows,
        errors=errors or {},
        refused=refused,
        photos_dropped=photos_dropped,
    )
    return (page[0], 422) if refused is not None and isinstance(page, tuple) else page


def _typed_rows(
    form: Mapping[str, str], photos: Mapping[str, Any], *, blank: bool = False
) -> list[dict[str, str]]:
    """The form's rows in order, as typed. Blank ones are left out unless `blank` (adding a
    row keeps the form as it was): the rows sent are numbered again from 1, as the service
    names them."""
    numbers = sorted({int(m.group(1)) for key in form if (m := ROW.match(key))})
    rows = []
    for n in numbers[: services.MAX_ITEMS + 1]:
        row = {field: form.get(f"rows-{n}-{field}", "").strip() for field in TYPED}
        upload = photos.get(f"rows-{n}-photo")
        if blank or any(row.values()) or (upload and upload.filename):
            rows.append(row | {"n": str(n)})
    return rows


@bp.post("/m/consignments/new")
@permission_required(MERCHANT_PORTAL)
def create_consignment() -> Any:
    """The portal's form: per row a listing, declared material, mass, price, note, photo,
    order number and a set piece's components. "Add a row" (without a script) and a refusal
    both come back with every typed value, the refusal with each problem under its field."""
    uploads = request.files
    chosen = any(upload.filename for upload in uploads.values())  # a browser never refills one
    if request.form.get("add_row"):
        every = _typed_rows(request.form, uploads, blank=True)
        return _consignments_page([*every, {}], photos_dropped=chosen)
    rows = _typed_rows(request.form, uploads)
    specs = []
    for row in rows:
        spec: dict[str, Any] = {key: row[key] for key in TYPED if row[key]}
        spec["listing_id"] = row["listing_id"]
        if row["price_yuan"]:
            spec["price_fen"] = yuan_to_fen(spec.pop("price_yuan"))
        upload = uploads.get(f"rows-{row['n']}-photo")
        if upload and upload.filename:
            spec["photo"] = upload.read()
        specs.append(spec)
    try:
        consignment = services.create_consignment(
            session=request_session(), actor=actor(), items=specs, now=now(), files=files()
        )
    except ValidationFailed as exc:
        return _consignments_page(
            rows or [{}], errors=exc.fields, refused=exc.message, photos_dropped=chosen
        )
    flash(translate(msg("送检单已提交，共 {n} 件", n=len(specs))), "success")
    return redirect(url_for("intake.consignment", code=consignment.code))


@bp.post("/m/consignments/import")
@permission_required(MERCHANT_PORTAL)
def import_csv() -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    try:
        consignment = services.import_consignment_csv(
            session=request_session(), actor=actor(), data=data, now=now()
        )
    except services.CsvRejected as exc:
        return render_template("merchants/csv_errors.html", error=exc), 422
    flash(translate(msg("已导入送检单")), "success")
    return redirect(url_for("intake.consignment", code=consignment.code))


@bp.get("/m/consignments/template.csv")
@permission_required(MERCHANT_PORTAL)
def csv_template() -> Any:
    # The import's columns; people fill in price_yuan (price_fen, the same price, is for programs).
    body = ",".join(c for c in services.CSV_COLUMNS if c != "price_fen") + "\n"
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="consignment-template.csv"'},
    )


@bp.get("/m/listings/<int:listing_id>")
@permission_required(MERCHANT_PORTAL)
def listing(listing_id: int) -> Any:
    return listing_page(listing_id)


def listing_page(
    listing_id: int, *, typed: Mapping[str, str] | None = None, errors: Any = None
) -> str:
    """The merchant's listing page; after a refused edit, with what was typed and each
    problem under its field."""
    db = request_session()
    view = results.listing_view(session=db, actor=actor(), listing_id=listing_id)
    return render_template(
        "listings/show.html",
        typed=typed or {},
        errors=errors or {},
        materials=load_ruleset().declarations,
        view=view,
        listing=view.listing,
        merchant=db.get(Merchant, view.listing.merchant_id),
        member=current_membership(db, view.listing.merchant_id) is not None,
        covers=consistency.COVERS,
        excludes=consistency.EXCLUDES,
        programme=db.get_one(Programme, view.listing.programme_id),
        programmes=programmes.running(db, now()),
    )


@bp.post("/m/listings/<int:listing_id>/edit")
@permission_required(MERCHANT_PORTAL)
def edit_listing(listing_id: int) -> Any:
    """Save the edit and come back to the listing, whose page shows the title check again; a
    refused edit comes back with what was typed and each problem under its field."""
    form = request.form
    try:
        _, warnings = listings.edit_listing(
            session=request_session(),
            actor=actor(),
            listing_id=listing_id,
            changes={
                "title": form.get("title"),
                "brand": form.get("brand"),
                "style": form.get("style"),
                "material_code": form.get("material_code"),
                "price_fen": yuan_to_fen(form.get("price_yuan", "")),
            },
            version=form.get("version"),
            now=now(),
        )
    except ValidationFailed as exc:
        return listing_page(listing_id, typed=form, errors=exc.fields), 422
    said = (
        msg("已保存；标题仍有 {n} 处超出保障范围的描述", n=len(warnings))
        if warnings
        else msg("已保存；标题与申报材质一致")
    )
    flash(translate(said), "warning" if warnings else "success")
    return redirect(url_for("intake.listing", listing_id=listing_id))


@bp.get("/m/consignments/<code>")
@permission_required(SIGNED_IN)
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


LEVELS = {"ok": "success", "warn": "warning", "error": "error"}


def show(result: services.ScanResult) -> None:
    flash(translate(result.message), LEVELS[result.level])


def _consignment_page(code: str) -> str:
    return url_for("intake.consignment_scan", code=code)


def _after_receive(code: str) -> str:
    back_to = normalize(request.form.get("c", ""))
    if back_to:
        return url_for("intake.consignment_scan", code=back_to)
    return url_for("intake.receive_form", code=code)


@bp.get("/intake")
@permission_required(WAREHOUSE)
def index() -> Any:
    code = normalize(request.args.get("code", ""))
    if code.startswith("SJ"):
        return redirect(url_for("intake.consignment_scan", code=code))
    db = request_session()
    if code:
        try:
            items.get_item(session=db, actor=actor(), code=code)
        except NotFound as exc:
            flash(translate(exc.message), "error")
            return redirect(url_for("intake.index"))
        return redirect(url_for("intake.receive_form", code=code))
    found = list_page(
        services.waiting_list(),
        opens=lambda row: url_for("intake.consignment_scan", code=row[0].code),
        merchants=merchant_choices(db),
    )
    return render_list("intake/index.html", found)


@bp.get("/intake/c/<code>")
@permission_required(WAREHOUSE)
def consignment_scan(code: str) -> Any:
    db = request_session()
    found = services.get_consignment(session=db, actor=actor(), code=code)
    items = services.consignment_items(session=db, consignment=found)
    return render_template(
        "intake/consignment_scan.html",
        consignment=found,
        items=items,
        progress=services.consignment_progress(items),
        once=once.new_token(),
    )


@bp.post("/intake/c/<code>/scan")
@permission_required(WAREHOUSE)
@refusals_back_to(_consignment_page)
def scan(code: str) -> Any:
    result = services.scan_at_consignment(
        session=request_session(),
        actor=actor(),
        consignment_code=code,
        code=request.form.get("item_code", ""),
        station=station("intake"),
        now=now(),
        once_key=request.form.get("once"),
    )
    if result.outcome == "go":
        return redirect(url_for("intake.receive_form", code=result.code, c=code))
    show(result)
    return redirect(url_for("intake.consignment_scan", code=code))


@bp.post("/intake/c/<code>/close")
@permission_required(WAREHOUSE)
@refusals_back_to(_consignment_page)
def close(code: str) -> Any:
    missing = services.close_consignment(
        session=request_session(), actor=actor(), code=code, station=station("intake"), now=now()
    )
    if missing:
        codes = ", ".join(i.code for i in missing)
        flash(
            (translate(msg("缺失 {missing} 件，已挂起：", missing=len(missing)))) + codes,
            "error",
        )
    else:
        flash(
            translate(msg("送检单收货完成，无缺失")),
            "success",
        )
    return redirect(url_for("intake.consignment_scan", code=code))


def _receive_page(code: str, *, typed: Any = None, errors: Any = None) -> str:
    item = items.get_item(session=request_session(), actor=actor(), code=code)
    return render_template(
        "intake/receive.html",
        item=item,
        consignment_code=request.args.get("c", "") or (typed or {}).get("c", ""),
        once=once.new_token(),
        photo_views=[
            (field, translate(proof.VIEW_LABELS[view]))
            for view, field in proof.photo_fields().items()
        ],
        dimensions=services.identifying_dimensions(item),
        no_photo_reasons=proof.NO_PHOTO_REASONS,
        typed=typed or {},
        errors=errors or {},
    )


@bp.get("/intake/<code>")
@permission_required(WAREHOUSE)
def receive_form(code: str) -> Any:
    return _receive_page(code)


@bp.post("/intake/<code>")
@permission_required(WAREHOUSE)
@refusals_back_to(_after_receive)
def receive(code: str) -> Any:
    """A refused form comes back with what was typed and each problem by its field (the photos
    must be chosen again: a browser never refills a file input); a scan's refusal (unknown
    code, already moved on) goes back to the scanner page as before."""
    photos = {
        view: upload.read() if (upload := request.files.get(field)) and upload.filename else None
        for view, field in proof.photo_fields().items()
    }
    dimensions = {
        key: request.form[f"dim_{key}"]
        for key in proof.dimension_keys()
        if request.form.get(f"dim_{key}", "").strip()
    }
    try:
        result = services.receive_scan(
            session=request_session(),
            actor=actor(),
            code=code,
            mass_g=request.form.get("mass_g"),
            photo=photos.pop("front"),
            views=photos,
            dimensions=dimensions,
            no_photo_reason=request.form.get("no_photo_reason"),
            no_photo_note=request.form.get("no_photo_note"),
            files=files(),
            now=now(),
            damage=request.form.get("damage", "")[:150],
            station=station("intake"),
            once_key=request.form.get("once"),
        )
    except ValidationFailed as exc:
        if not exc.fields:
            raise
        return _receive_page(code, typed=request.form, errors=exc.fields), 422
    show(result)
    back_to = normalize(request.form.get("c", ""))
    if back_to:
        return redirect(url_for("intake.consignment_scan", code=back_to))
    return redirect(url_for("intake.index"))


@bp.post("/items/<code>/hold")
@permission_required(MACHINE.transitions["hold"])
def hold(code: str) -> Any:
    items.hold_item(
        session=request_session(),
        actor=actor(),
        code=code,
        reason=request.form.get("reason", ""),
        now=now(),
    )
    return redirect(url_for("intake.item", code=code))


@bp.post("/items/<code>/release")
@permission_required(MACHINE.transitions["release"])
def release(code: str) -> Any:
    """Two steps: the item page's button asks for the confirmation, which takes the note."""
    found = items.get_item(session=request_session(), actor=actor(), code=code)
    confirmation = Confirmation(
        title=msg("确认解除挂起 {code}", code=found.code),
        action=url_for("intake.release", code=found.code),
        button=msg("确认解除挂起"),
        back=url_for("intake.item", code=found.code),
        consequences=[
            msg("物品 {code} 将回到挂起前的状态，继续流转。", code=found.code),
            msg("挂起原因：{reason}", reason=found.hold_reason or "—"),
        ],
        note_label=msg("解除说明（必填，记入流转记录）"),
        danger=False,
    )

    def act(note: str) -> Any:
        items.release_item(
            session=request_session(), actor=actor(), code=code, now=now(), note=note
        )
        return redirect(url_for("intake.item", code=code))

    return confirm_or_act(confirmation, act)


@bp.get("/returns")
@permission_required(WAREHOUSE)
def returns() -> Any:
    return render_list("intake/returns.html", _returns())


def _returns() -> Any:
    """The pieces to send back (a Listing), or the one a scanned code opened (a redirect)."""
    return list_page(
        items.item_list([ItemState.RETURN_TO_MERCHANT]),
        opens=lambda row: url_for("intake.item", code=row[0].code),
        merchants=merchant_choices(request_session()),
    )


@bp.post("/returns/<code>")
@permission_required(WAREHOUSE)
def return_shipped(code: str) -> Any:
    try:
        items.return_shipped(
            session=request_session(),
            actor=actor(),
            code=code,
            waybill_no=request.form.get("waybill_no", ""),
            now=now(),
        )
    except ValidationFailed as exc:
        # The list again, the refused row's waybill field marked (the list's filter is a GET
        # query, so a POST's list is the whole list: the refused row is in it).
        return form_again("intake/returns.html", exc, listing=_returns(), refused_code=code)
    return back(url_for("intake.returns"))


# -- everyone with access: the item's timeline ------------------------------------------------


@bp.get("/items/<code>")
@permission_required(SIGNED_IN)
def item(code: str) -> Any:
    db = request_session()
    found, events = items.timeline(session=db, actor=actor(), code=code)
    staff = allows(actor(), SEE_ALARMS)
    return render_template(
        "intake/item.html",
        item=found,
        rows=custody_rows(events),
        staff=staff,
        alarms=alarms.alarms_of(db, item_id=found.id or 0) if staff else [],
        photos=items.item_photos(session=db, item=found),
        history=history(session=db, item=found),
        certificate=certificate_of(session=db, item=found),
        actions=MACHINE.allowed(found, actor().role),
    )


@bp.get("/items/<code>/photos/<digest>.jpg")
@permission_required(SIGNED_IN)
def photo(code: str, digest: str) -> Any:
    db = request_session()
    found = items.get_item(session=db, actor=actor(), code=code)
    if digest not in {p.sha256 for p in items.item_photos(session=db, item=found)}:
        raise NotFound(msg("未找到照片"))
    data = storage.load(files(), "photos", digest, ".jpg")
    return upload_response(data, "image/jpeg", cache="private, max-age=3600")
