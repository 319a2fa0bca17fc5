from __future__ import annotations

import atexit
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState

from qc_app import storage
from qc_app.certificates.keys import jwks
from qc_app.certificates.pages import pdf_response
from qc_app.db import request_session
from qc_app.errors import Conflict, NotFound
from qc_app.i18n import Message, joined, msg
from qc_app.items.proof import VIEW_LABELS, dimension
from qc_app.verification import consumer, scans, services, throttle
from qc_app.verification.services import Verdict
from qc_app.web import (
    config,
    files,
    limiter,
    now,
    public,
    public_limit,
    translate,
    upload_response,
)

bp = Blueprint("verification", __name__)


def _role() -> str | None:
    from flask_login import current_user

    return current_user.role if current_user and current_user.is_authenticated else None


@bp.record_once
def _tally_scans(state: BlueprintSetupState) -> None:
    """One tally per app and process; what is pending is written when the process exits."""
    tally = scans.Tally(state.app.config["QC"].SCAN_FLUSH_SECONDS)
    state.app.extensions["qc_scan_tally"] = tally
    if tally.every_s > 0:
        atexit.register(tally.flush, state.app.extensions["qc_counter_engine"], force=True)


def _page(
    view: services.PublicView,
    status: int,
    owner: tuple[bool, str] | None = None,
    tries_left: int | None = None,
    **proof: str,
) -> Any:
    """Render the verdict; count the scan and add the parcel facts when a record was found.
    `owner`: a registration of ownership just tried: (registered, refusal in words);
    `tries_left`: after a wrong check code, how many more the budget allows. The same page in
    another language (`lang` in the query: only our language links add it) is not a scan."""
    extra = None
    if view.record is not None:
        extra = consumer.extras(
            request_session(),
            tally=current_app.extensions["qc_scan_tally"],
            counter=current_app.extensions["qc_counter_engine"],
            record=view.record,
            role=_role(),
            limits=scans.Thresholds(*config().SCAN_THRESHOLDS),
            count="lang" not in request.args,
        )
    return render_template(
        "verification/result.html",
        view=view,
        extra=extra,
        proof=proof,
        owner=owner,
        tries_left=tries_left,
        intake_photos=services.proof_photos(view),
        view_labels=VIEW_LABELS,
        dimension=dimension,
    ), status


def _qr_view(number: str) -> services.PublicView:
    return services.by_qr(
        session=request_session(),
        number=number,
        kid=request.args.get("k", ""),
        signature=request.args.get("s", ""),
        now=now(),
    )


@bp.get("/v/<number>")
@public
@limiter.limit(public_limit)
def by_qr(number: str) -> Any:
    view = _qr_view(number)
    status = 404 if view.verdict in (Verdict.NOT_FOUND, Verdict.FORGED) else 200
    return _page(view, status, k=request.args.get("k", ""), s=request.args.get("s", ""))


def _file(number: str, kind: services.QrFile, digest: str = "") -> str:
    found = services.file_behind_qr(
        session=request_session(),
        number=number,
        kid=request.args.get("k", ""),
        signature=request.args.get("s", ""),
        kind=kind,
        digest=digest,
    )
    if found is None:
        raise NotFound(msg("未找到证书") if kind == services.QrFile.PDF else msg("未找到照片"))
    return found


@bp.get("/v/<number>/photo.jpg")
@public
@limiter.limit(public_limit)
def photo(number: str) -> Any:
    data = storage.load(files(), "photos", _file(number, services.QrFile.PHOTO), ".jpg")
    return upload_response(data, "image/jpeg", cache="private, max-age=3600")


@bp.get("/v/<number>/photos/<digest>.jpg")
@public
@limiter.limit(public_limit)
def proof_photo(number: str, digest: str) -> Any:
    """One photo of the signed intake set, served only as signed: a replaced or lost one is a
    404 (the page then says the photo could not be checked)."""
    signed = _file(number, services.QrFile.PROOF, digest)
    try:
        data = storage.load(files(), "photos", signed, ".jpg")
    except storage.StoredFileCorrupt:
        raise NotFound(msg("照片与证书签名不符")) from None
    except storage.StoredFileMissing:
        raise NotFound(msg("未找到照片")) from None
    return upload_response(data, "image/jpeg", cache="private, max-age=3600")


@bp.get("/v/<number>/certificate.pdf")
@public
@limiter.limit(public_limit)
def certificate_pdf(number: str) -> Any:
    """The signed certificate PDF, the very file issued, for the consumer to keep: behind the
    QR's signature like the photo (a forged or unknown code gets nothing)."""
    data = storage.load(files(), "certificates", _file(number, services.QrFile.PDF), ".pdf")
    return pdf_response(data, number)


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit(public_limit)
def verify_form() -> Any:
    if request.method == "GET":
        return render_template("verification/form.html")
    number = request.form.get("number", "")
    check_code = request.form.get("check_code", "")
    throttle.ensure_budget(number)
    view = _code_view(number, check_code)
    if view.verdict == Verdict.NOT_FOUND:
        return _page(view, 404, tries_left=throttle.spend(number))
    return _page(view, 200, check_code=check_code)


def _with_tries(said: Message, tries_left: int | None) -> Message:
    if tries_left is None:
        return said
    return joined([said, msg("还可以再试 {n} 次。", n=tries_left)])


def _code_view(number: str, check_code: str) -> services.PublicView:
    return services.by_code(
        session=request_session(),
        number=number,
        check_code=check_code,
        key=config().CHECK_CODE_KEY,
        now=now(),
    )


@bp.get("/v/<number>/owner")
@public
@limiter.limit(public_limit)
def owner_form(number: str) -> Any:
    """The form to register ownership, one tap away from the QR's page: that page, read on
    every scan, then carries no form token, so a scan writes no session."""
    view = _qr_view(number)
    if view.verdict != Verdict.VALID or view.qr_url is None:
        raise NotFound(msg("未找到证书"))
    return render_template("verification/owner.html", number=view.number, back=view.qr_url)


@bp.post("/v/<number>/owner")
@public
@limiter.limit(public_limit)
def register_owner(number: str) -> Any:
    """Register ownership with the check code (from the page reached by number + code, or
    typed on the QR's page). A wrong code spends the same budget as on /verify."""
    check_code = request.form.get("check_code", "")
    throttle.ensure_budget(number)
    try:
        services.register_owner(
            session=request_session(),
            number=number,
            check_code=check_code,
            key=config().CHECK_CODE_KEY,
            now=now(),
            zone=config().zone,
        )
    except NotFound as wrong:
        raise NotFound(_with_tries(wrong.message, throttle.spend(number))) from None
    except Conflict as refused:  # already registered (with the date), or revoked meanwhile
        return _page(_code_view(number, check_code), 409, (False, translate(refused.message)))
    return _page(_code_view(number, check_code), 200, (True, ""))


@bp.get("/.well-known/jwks.json")
@public
def jwks_document() -> Any:
    response = jsonify(jwks(request_session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
