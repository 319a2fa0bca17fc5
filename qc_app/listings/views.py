from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from qc_app.db import request_session
from qc_app.listings import services
from qc_app.rules.engine import load_ruleset
from qc_app.web import actor, now, roles_required

bp = Blueprint("listings", __name__, url_prefix="/m")


@bp.get("/listings")
@roles_required("merchant")
def index() -> Any:
    listings = services.merchant_listings(session=request_session(), actor=actor())
    return render_template(
        "listings/index.html", listings=listings, materials=load_ruleset().declarations
    )


@bp.post("/listings")
@roles_required("merchant")
def create() -> Any:
    form = request.form
    services.create_listing(
        session=request_session(),
        actor=actor(),
        title=form.get("title"),
        brand=form.get("brand"),
        material_code=form.get("material_code"),
        price_fen=_yuan_to_fen(form.get("price_yuan", "")),
        style=form.get("style"),
        now=now(),
    )
    return redirect(url_for("listings.index"))


def _yuan_to_fen(text: str) -> str:
    """The form asks for yuan (what a merchant types); the domain takes integer fen."""
    from decimal import Decimal, InvalidOperation

    try:
        return str(int((Decimal(text.strip()) * 100).to_integral_exact()))
    except (InvalidOperation, ValueError):
        return text
