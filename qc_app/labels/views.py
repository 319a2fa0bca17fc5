"""Label and packing-list downloads for the merchant portal (and staff, who may reprint)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from qc_app.authz import PARCELS
from qc_app.certificates.fonts import find_cjk_font
from qc_app.codes import normalize
from qc_app.db import request_session
from qc_app.labels import pdf, services
from qc_app.labels.pages import labels_pdf_response, labels_zpl_response
from qc_app.web import actor, config, download, limiter, permission_required

bp = Blueprint("labels", __name__)
PRINT_LIMIT = "120 per minute"


@bp.get("/m/items/<code>/label.pdf")
@permission_required(PARCELS)
@limiter.limit(PRINT_LIMIT)
def item_pdf(code: str) -> Any:
    size = services.check_size(request.args.get("size"))
    label = services.item_label(session=request_session(), actor=actor(), code=code)
    return labels_pdf_response([label], size, label.item_code)


@bp.get("/m/items/<code>/label.zpl")
@permission_required(PARCELS)
@limiter.limit(PRINT_LIMIT)
def item_zpl(code: str) -> Any:
    size = services.check_size(request.args.get("size"), sheet=False)
    label = services.item_label(session=request_session(), actor=actor(), code=code)
    return labels_zpl_response([label], size, label.item_code)


@bp.get("/m/consignments/<code>/labels.pdf")
@permission_required(PARCELS)
@limiter.limit(PRINT_LIMIT)
def consignment_pdf(code: str) -> Any:
    size = services.check_size(request.args.get("size"))
    labels = services.consignment_labels(session=request_session(), actor=actor(), code=code)
    return labels_pdf_response(labels, size, normalize(code))  # as found: no newline from the URL


@bp.get("/m/consignments/<code>/labels.zpl")
@permission_required(PARCELS)
@limiter.limit(PRINT_LIMIT)
def consignment_zpl(code: str) -> Any:
    size = services.check_size(request.args.get("size"), sheet=False)
    labels = services.consignment_labels(session=request_session(), actor=actor(), code=code)
    return labels_zpl_response(labels, size, normalize(code))


@bp.get("/m/consignments/<code>/packing-list.pdf")
@permission_required(PARCELS)
@limiter.limit(PRINT_LIMIT)
def packing_list(code: str) -> Any:
    packing = services.packing_list(
        session=request_session(), actor=actor(), code=code, zone=config().zone
    )
    data = pdf.packing_list_pdf(packing, find_cjk_font(config().CJK_FONT))
    return download(data, "application/pdf", f"packing-list-{packing.consignment_code}.pdf")
