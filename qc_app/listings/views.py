from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for

from qc_app.authz import MERCHANT_PORTAL, PLATFORM
from qc_app.db import request_session
from qc_app.errors import ValidationFailed
from qc_app.listings import consistency, services
from qc_app.merchants import services as merchants
from qc_app.merchants.services import merchant_choices
from qc_app.programmes import services as programmes
from qc_app.rules.engine import load_ruleset
from qc_app.units import yuan_to_fen
from qc_app.web import (
    Listing,
    actor,
    form_again,
    list_page,
    now,
    permission_required,
    render_list,
)

bp = Blueprint("listings", __name__, url_prefix="/m")
# The platform's view of every shop's listings (the merchant's portal lives under /m).
admin_bp = Blueprint("listings_admin", __name__)


@admin_bp.get("/admin/listings")
@permission_required(PLATFORM)
def admin() -> Any:
    found = list_page(
        services.listing_list(actor=actor()), merchants=merchant_choices(request_session())
    )
    return render_list("listings/admin.html", found)


@bp.get("/listings")
@permission_required(MERCHANT_PORTAL)
def index() -> Any:
    return render_list("listings/index.html", **_page(), values={}, errors={})


def _page() -> dict[str, Any]:
    """The merchant's listings (no scanner opens one here) and what the new-listing form offers."""
    db = request_session()
    found = list_page(services.listing_list(actor=actor()))
    assert isinstance(found, Listing)
    rules = load_ruleset()
    return {
        "listing": found,
        "materials": rules.declarations,
        "warnings": {
            x.id: consistency.check_title(x.title, x.material_code, rules) for x, _ in found.rows
        },
        "member": merchants.current_membership(db, actor().merchant_id or 0) is not None,
        "programmes": programmes.running(db, now()),
        "programme_of": programmes.by_id(db),
    }


@bp.post("/listings")
@permission_required(MERCHANT_PORTAL)
def create() -> Any:
    form = request.form
    try:
        listing = services.create_listing(
            session=request_session(),
            actor=actor(),
            title=form.get("title"),
            brand=form.get("brand"),
            material_code=form.get("material_code"),
            price_fen=yuan_to_fen(form.get("price_yuan", "")),
            style=form.get("style"),
            programme=form.get("programme"),
            now=now(),
            price_field="price_yuan",
        )
    except ValidationFailed as exc:
        return form_again("listings/index.html", exc, **_page())
    return redirect(url_for("intake.listing", listing_id=listing.id))


@bp.post("/listings/<int:listing_id>/programme")
@permission_required(MERCHANT_PORTAL)
def programme(listing_id: int) -> Any:
    services.set_programme(
        session=request_session(),
        actor=actor(),
        listing_id=listing_id,
        programme=request.form.get("programme"),
        now=now(),
    )
    return redirect(url_for("intake.listing", listing_id=listing_id))


@bp.post("/listings/<int:listing_id>/labels")
@permission_required(MERCHANT_PORTAL)
def labels(listing_id: int) -> Any:
    services.set_labels(
        session=request_session(),
        actor=actor(),
        listing_id=listing_id,
        authentic=request.form.get("authentic") == "yes",
        guarantee=request.form.get("guarantee") == "yes",
        now=now(),
    )
    return redirect(url_for("intake.listing", listing_id=listing_id))
