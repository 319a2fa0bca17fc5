from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from qc_app.authz import PLATFORM, SIGNED_IN, WAREHOUSE
from qc_app.certificates import batches, issuance, lookup, revocation
from qc_app.certificates.pages import issuing_setup, pdf_response
from qc_app.db import request_session
from qc_app.items.services import items_in
from qc_app.items.workflow import ItemState
from qc_app.web import actor, back, config, now, permission_required

bp = Blueprint("certificates", __name__)


@bp.get("/certify")
@permission_required(WAREHOUSE)
def queue() -> Any:
    return render_template(
        "certificates/queue.html",
        items=items_in(session=request_session(), states=[ItemState.APPROVED]),
    )


@bp.post("/certify/<code>")
@permission_required(WAREHOUSE)
def issue(code: str) -> Any:
    issued = issuance.issue_certificate(
        session=request_session(), actor=actor(), code=code, setup=issuing_setup(), now=now()
    )
    return render_template("certificates/issued.html", issued=issued)


@bp.get("/certify/batch")
@permission_required(batches.BATCH)
def batch_form() -> Any:
    session = request_session()
    return render_template(
        "certificates/batch_form.html",
        items=items_in(session=session, states=[ItemState.APPROVED], limit=batches.BATCH_LIMIT),
        unfinished=batches.unfinished_batches(session=session, actor=actor(), now=now()),
    )


@bp.post("/certify/batches")
@permission_required(batches.BATCH)
def batch_start() -> Any:
    batch = batches.start_batch(
        session=request_session(), actor=actor(), codes=request.form.getlist("code"), now=now()
    )
    return redirect(url_for("certificates.batch_page", batch_id=batch.id))


@bp.get("/certify/batches/<int:batch_id>")
@permission_required(batches.BATCH)
def batch_page(batch_id: int) -> Any:
    session = request_session()
    batch = batches.get_batch(session=session, actor=actor(), batch_id=batch_id)
    return render_template(
        "certificates/batch.html", status=batches.batch_status(session, batch, now=now())
    )


@bp.get("/certify/batches/<int:batch_id>/status")
@permission_required(batches.BATCH)
def batch_status(batch_id: int) -> Any:
    session = request_session()
    batch = batches.get_batch(session=session, actor=actor(), batch_id=batch_id)
    return jsonify(batches.batch_status(session, batch, now=now()).as_json())


@bp.post("/certify/batches/<int:batch_id>/step")
@permission_required(batches.BATCH)
def batch_step(batch_id: int) -> Any:
    """The progress page calls this until nothing is pending: each call issues for ~2 s. The
    page's 继续签发 button posts here too, to resume an interrupted batch."""
    status = batches.run_batch_step(
        session=request_session(),
        actor=actor(),
        batch_id=batch_id,
        setup=issuing_setup(),
        now=now(),
    )
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status.as_json())
    return redirect(url_for("certificates.batch_page", batch_id=batch_id))


@bp.get("/certificates/<number>.pdf")
@permission_required(SIGNED_IN)
def pdf(number: str) -> Any:
    data = lookup.certificate_pdf(
        session=request_session(), actor=actor(), number=number, files=config().INSTANCE_PATH
    )
    return pdf_response(data, number)


@bp.get("/admin/certificates")
@permission_required(PLATFORM)
def admin() -> Any:
    return render_template(
        "certificates/admin.html",
        certificates=lookup.recent(request_session()),
    )


@bp.post("/admin/certificates/<number>/revoke")
@permission_required(PLATFORM)
def revoke(number: str) -> Any:
    revocation.revoke(
        session=request_session(),
        actor=actor(),
        number=number,
        reason=request.form.get("reason", ""),
        now=now(),
    )
    return back("/admin/certificates")


@bp.post("/admin/certificates/<number>/reissue")
@permission_required(PLATFORM)
def reissue(number: str) -> Any:
    issued = revocation.reissue(
        session=request_session(),
        actor=actor(),
        number=number,
        reason=request.form.get("reason", ""),
        setup=issuing_setup(),
        now=now(),
    )
    return render_template("certificates/issued.html", issued=issued)
