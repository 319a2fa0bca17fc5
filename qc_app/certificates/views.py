from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from qc_app.certificates import services
from qc_app.certificates.models import Certificate
from qc_app.db import request_session
from qc_app.intake.services import items_in
from qc_app.intake.workflow import ItemState
from qc_app.web import actor, back, config, now, roles_required

bp = Blueprint("certificates", __name__)


def issuing_setup() -> services.IssuingSetup:
    return services.IssuingSetup.from_config(config())


def pdf_response(data: bytes, number: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{number}.pdf"'
    return response


@bp.get("/certify")
@roles_required("inspector")
def queue() -> Any:
    return render_template(
        "certificates/queue.html",
        items=items_in(session=request_session(), states=[ItemState.APPROVED]),
    )


@bp.post("/certify/<code>")
@roles_required("inspector")
def issue(code: str) -> Any:
    issued = services.issue_certificate(
        session=request_session(), actor=actor(), code=code, setup=issuing_setup(), now=now()
    )
    return render_template("certificates/issued.html", issued=issued)


@bp.get("/certificates/<number>.pdf")
@roles_required("merchant", "inspector", "analyst", "reviewer", "admin")
def pdf(number: str) -> Any:
    data = services.certificate_pdf(
        session=request_session(), actor=actor(), number=number, files=config().INSTANCE_PATH
    )
    return pdf_response(data, number)


@bp.get("/admin/certificates")
@roles_required("admin")
def admin() -> Any:
    from sqlmodel import col, select

    recent = (
        request_session()
        .exec(select(Certificate).order_by(col(Certificate.id).desc()).limit(50))
        .all()
    )
    return render_template("certificates/admin.html", certificates=recent)


@bp.post("/admin/certificates/<number>/revoke")
@roles_required("admin")
def revoke(number: str) -> Any:
    services.revoke(
        session=request_session(),
        actor=actor(),
        number=number,
        reason=request.form.get("reason", ""),
        now=now(),
    )
    return back("/admin/certificates")
