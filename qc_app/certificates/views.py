from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from qc_app.authz import PLATFORM, SIGNED_IN, WAREHOUSE, allows
from qc_app.certificates import batches, lookup, revocation, tasks
from qc_app.certificates.models import Certificate
from qc_app.certificates.pages import pdf_response, request_issue, request_reissue, wait_for
from qc_app.certificates.workflow import MACHINE
from qc_app.db import request_session
from qc_app.i18n import msg
from qc_app.inspection.services import latest_approved
from qc_app.items.services import get_item, item_list, items_in
from qc_app.items.workflow import ItemState
from qc_app.jobs.models import JobOutcome
from qc_app.jobs.services import get_job, job_error, reveal
from qc_app.merchants.services import merchant_choices
from qc_app.queue import enqueue
from qc_app.web import (
    Confirmation,
    actor,
    config,
    confirm_or_act,
    files,
    list_page,
    now,
    permission_required,
    render_list,
    translate,
)

bp = Blueprint("certificates", __name__)


def batch_lease() -> timedelta:
    return timedelta(seconds=config().BATCH_LEASE_SECONDS)


@bp.get("/certify")
@permission_required(WAREHOUSE)
def queue() -> Any:
    """待出证: a scanner's item code + Enter in the search opens that item."""
    found = list_page(
        item_list([ItemState.APPROVED]),
        opens=lambda row: url_for("certificates.ready", code=row[0].code),
        merchants=merchant_choices(request_session()),
    )
    return render_list("certificates/queue.html", found)


@bp.get("/certify/<code>")
@permission_required(WAREHOUSE)
def ready(code: str) -> Any:
    """A scanned item awaiting its certificate: what will be certified, 签发证书 focused, so the
    scanner's code and one Enter issue it."""
    session = request_session()
    item = get_item(session=session, actor=actor(), code=code)
    return render_template(
        "certificates/ready.html",
        item=item,
        result=latest_approved(session=session, item=item),
        approved=item.state == ItemState.APPROVED,
    )


@bp.post("/certify/<code>")
@permission_required(WAREHOUSE)
def issue(code: str) -> Any:
    """The issuance tier signs: the job goes on the queue, its page follows it."""
    job = request_issue(actor(), code)
    return redirect(url_for("certificates.job_page", job_id=job.id))


@bp.get("/certify/jobs/<job_id>")
@permission_required(SIGNED_IN)
def job_page(job_id: str) -> Any:
    """A job asked for on these pages: waiting (the page reloads itself), the certificate, or
    why it was refused. Waits a moment first, so a quick job shows its result at once."""
    session = request_session()
    job = wait_for(get_job(session=session, actor=actor(), job_id=job_id), 2.0)
    if job.outcome == JobOutcome.DONE:
        result = reveal(session=session, actor=actor(), job=job)
        return render_template("certificates/issued.html", issued=result)
    error = job_error(job)
    if error is not None:
        return render_template("certificates/job_failed.html", message=error.message)
    return render_template("certificates/job_pending.html", job=job)


@bp.get("/certify/batch")
@permission_required(batches.BATCH)
def batch_form() -> Any:
    session = request_session()
    return render_template(
        "certificates/batch_form.html",
        items=items_in(session=session, states=[ItemState.APPROVED], limit=batches.BATCH_LIMIT),
        unfinished=batches.unfinished_batches(
            session=session, actor=actor(), now=now(), lease=batch_lease()
        ),
    )


@bp.post("/certify/batches")
@permission_required(batches.BATCH)
def batch_start() -> Any:
    batch = batches.start_batch(
        session=request_session(), actor=actor(), codes=request.form.getlist("code"), now=now()
    )
    enqueue(current_app, tasks.RUN_BATCH, batch_id=batch.id)
    return redirect(url_for("certificates.batch_page", batch_id=batch.id))


@bp.get("/certify/batches/<int:batch_id>")
@permission_required(batches.BATCH)
def batch_page(batch_id: int) -> Any:
    session = request_session()
    batch = batches.get_batch(session=session, actor=actor(), batch_id=batch_id)
    status = batches.batch_status(session, batch, now=now(), lease=batch_lease())
    return render_template("certificates/batch.html", status=status)


@bp.get("/certify/batches/<int:batch_id>/status")
@permission_required(batches.BATCH)
def batch_status(batch_id: int) -> Any:
    session = request_session()
    batch = batches.get_batch(session=session, actor=actor(), batch_id=batch_id)
    return jsonify(batches.batch_status(session, batch, now=now(), lease=batch_lease()).as_json())


@bp.post("/certify/batches/<int:batch_id>/resume")
@permission_required(batches.BATCH)
def batch_resume(batch_id: int) -> Any:
    """继续签发: put the batch's job on the queue again at once, rather than wait for a worker's
    periodic check (a live job holding the batch makes the new one return at once)."""
    batch = batches.get_batch(session=request_session(), actor=actor(), batch_id=batch_id)
    enqueue(current_app, tasks.RUN_BATCH, batch_id=batch.id)
    return redirect(url_for("certificates.batch_page", batch_id=batch_id))


@bp.get("/certificates/<number>.pdf")
@permission_required(SIGNED_IN)
def pdf(number: str) -> Any:
    data = lookup.certificate_pdf(
        session=request_session(), actor=actor(), number=number, files=files()
    )
    return pdf_response(data, number)


@bp.get("/admin/certificates")
@permission_required(PLATFORM)
def admin() -> Any:
    found = list_page(
        lookup.admin_list(),
        opens=lambda row: url_for("intake.item", code=row[1]),
        merchants=merchant_choices(request_session()),
    )
    return render_list(
        "certificates/admin.html",
        found,
        may_revoke=allows(actor(), MACHINE.transitions["revoke"]),
        may_reissue=allows(actor(), MACHINE.transitions["reissue"]),
    )


def _retiring(number: str) -> Certificate:
    """The certificate an admin asked to revoke or reissue (the action itself refuses a
    certificate no longer valid, with the confirmed note as its reason)."""
    return lookup.get_certificate(session=request_session(), actor=actor(), number=number)


@bp.post("/admin/certificates/<number>/revoke")
@permission_required(PLATFORM)
def revoke(number: str) -> Any:
    """Two steps: the list's form asks for the confirmation; the confirmation's note is the
    reason recorded (and shown on the consumer's page)."""
    certificate = _retiring(number)
    confirmation = Confirmation(
        title=msg("确认吊销证书 {number}", number=certificate.number),
        action=url_for("certificates.revoke", number=certificate.number),
        button=msg("确认吊销"),
        back=url_for("certificates.admin"),
        consequences=[
            msg(
                "证书 {number} 将被吊销：扫码验证显示“已吊销”，不再是有效证书。",
                number=certificate.number,
            ),
            msg("吊销不能撤回；如需新证书请选择重新签发。"),
        ],
        note_label=msg("吊销原因（必填，显示在验证页并记入审计记录）"),
    )

    def act(note: str) -> Any:
        revocation.revoke(
            session=request_session(), actor=actor(), number=number, reason=note, now=now()
        )
        flash(translate(msg("证书 {number} 已吊销", number=certificate.number)), "success")
        return redirect(url_for("certificates.admin"))

    return confirm_or_act(confirmation, act)


@bp.post("/admin/certificates/<number>/reissue")
@permission_required(PLATFORM)
def reissue(number: str) -> Any:
    certificate = _retiring(number)
    confirmation = Confirmation(
        title=msg("确认重新签发证书 {number}", number=certificate.number),
        action=url_for("certificates.reissue", number=certificate.number),
        button=msg("确认重新签发"),
        back=url_for("certificates.admin"),
        consequences=[
            msg("证书 {number} 将被吊销，并指向新证书。", number=certificate.number),
            msg("按同一检测结果签发新证书，需重新打印。"),
        ],
        note_label=msg("重新签发原因（必填，记入审计记录）"),
        danger=False,
    )

    def act(note: str) -> Any:
        job = request_reissue(actor(), number, note)
        return redirect(url_for("certificates.job_page", job_id=job.id))

    return confirm_or_act(confirmation, act)
