"""Claim pages: filing and following (public, by the consumer), answering (merchant),
deciding (admin). Each view parses input, calls one service, and renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qc_app.authz import CLAIMS, MERCHANT_PORTAL, PLATFORM, Role, allows
from qc_app.certificates.models import Certificate
from qc_app.claims import casefile, services
from qc_app.claims.models import GROUND_LABELS, Claim, ClaimReason, RejectionGround
from qc_app.claims.workflow import MACHINE, ClaimState
from qc_app.db import request_session
from qc_app.errors import DomainError, NotFound, ValidationFailed
from qc_app.i18n import Message, msg
from qc_app.merchants.services import merchant_choices
from qc_app.units import format_fen, yuan_to_fen
from qc_app.verification import services as verification
from qc_app.verification import throttle
from qc_app.verification.services import Verdict
from qc_app.web import (
    Confirmation,
    actor,
    config,
    confirm_or_act,
    files,
    form_again,
    limiter,
    list_page,
    now,
    permission_required,
    public,
    public_limit,
    render_list,
    translate,
    upload_response,
)

bp = Blueprint("claims", __name__)
COVERED = (ClaimReason.BRAND, ClaimReason.MATERIAL)
NOT_COVERED = (ClaimReason.WEIGHT, ClaimReason.ORIGIN, ClaimReason.VARIETY, ClaimReason.SKIN)


def _claim_limit() -> str:
    return config().CLAIM_RATE_LIMIT


def _post_only() -> bool:
    return request.method != "POST"


def _labels() -> dict[str, Any]:
    return {
        "covered": COVERED,
        "not_covered": NOT_COVERED,
        "grounds": list(RejectionGround),
    }


def _certificate(number: str) -> verification.PublicView:
    """The claim is about a certificate the consumer can prove they hold: the QR's signature,
    or the check code printed on the certificate (a wrong code spends the same budget)."""
    db = request_session()
    values = request.values
    if values.get("k") and values.get("s"):
        view = verification.by_qr(
            session=db, number=number, kid=values["k"], signature=values["s"], now=now()
        )
    else:
        code = values.get("check_code", "")
        throttle.ensure_budget(number)
        view = verification.by_code(
            session=db, number=number, check_code=code, key=config().CHECK_CODE_KEY, now=now()
        )
        if view.verdict == Verdict.NOT_FOUND:
            throttle.spend(number)
    return view


@bp.route("/v/<number>/claim", methods=["GET", "POST"])
@public
@limiter.limit(public_limit)
@limiter.limit(_claim_limit, exempt_when=_post_only)
def new(number: str) -> Any:
    form = request.form
    proof = {"k": request.values.get("k", ""), "s": request.values.get("s", "")}
    if request.method == "GET":
        return render_template(
            "claims/new.html", number=number, proof=proof, values={}, errors={}, **_labels()
        )
    try:
        view = _certificate(number)
        if view.record is None or view.verdict != Verdict.VALID:
            raise NotFound(msg("未找到有效证书（请核对校验码）"))
        filed = services.file_claim(
            session=request_session(),
            certificate=request_session().get_one(Certificate, view.record.id),
            order_no=form.get("order_no", ""),
            reason=form.get("reason", ""),
            description=form.get("description", ""),
            postage_fen=yuan_to_fen(form.get("postage_yuan", "")),
            uploads=[f.read() for f in request.files.getlist("evidence")],
            files=files(),
            now=now(),
        )
    except services.OutOfScope as exc:
        return render_template(
            "claims/out_of_scope.html", number=number, proof=proof, message=translate(exc.message)
        ), 200
    except DomainError as exc:
        if exc.status == 429:
            raise
        return form_again("claims/new.html", exc, number=number, proof=proof, **_labels())
    return render_template("claims/filed.html", claim=filed.claim, secret=filed.secret, **_labels())


@bp.route("/claims/track", methods=["GET", "POST"])
@public
@limiter.limit(public_limit)
@limiter.limit(_claim_limit, exempt_when=_post_only)
def track() -> Any:
    if request.method == "GET":
        return render_template("claims/track.html", claim=None, values={}, errors={}, **_labels())
    try:
        claim = services.track(
            session=request_session(),
            number=request.form.get("number", ""),
            secret=request.form.get("secret", ""),
        )
    except (ValidationFailed, NotFound) as exc:
        # The number is kept; the secret, like a password, is typed again.
        number = request.form.get("number", "")
        return form_again(
            "claims/track.html", exc, claim=None, values={"number": number}, **_labels()
        )
    return render_template("claims/track.html", claim=claim, values={}, errors={}, **_labels())


@bp.get("/claims")
@permission_required(CLAIMS)
def index() -> Any:
    """A merchant's own claims, or the platform's all; a claim number typed or scanned exactly
    opens it."""
    merchants = [] if actor().role == Role.MERCHANT else merchant_choices(request_session())
    found = list_page(
        services.claim_list(actor=actor()),
        opens=lambda row: url_for("claims.detail", number=row[0].number),
        merchants=merchants,
    )
    return render_list("claims/index.html", found, **_labels())


@bp.get("/claims/<number>")
@permission_required(CLAIMS)
def detail(number: str) -> Any:
    return _detail_page(number)


def _detail_page(
    number: str, *, errors: dict[str, Message] | None = None, status: int = 200
) -> Any:
    """The claim; for whoever may decide it (the platform), its whole case file: every fact
    the decision needs, and the payout before deciding. A merchant sees its own claim and
    its answer form, not the platform's file."""
    db = request_session()
    claim = services.get_claim(session=db, actor=actor(), number=number)
    deciding = allows(actor(), MACHINE.transitions["uphold"])
    case = None
    if deciding:
        case = casefile.case_file(session=db, actor=actor(), number=number, now=now())
    actions = MACHINE.allowed(claim, actor().role)
    return render_template(
        "claims/detail.html",
        claim=claim,
        case=case,
        evidence=services.evidence_of(db, claim),
        may_answer="merchant_accept" in actions,
        may_reinspect="reinspect" in actions,
        may_decide="uphold" in actions,
        form=request.form if request.method == "POST" else {},
        errors=errors or {},
        **_labels(),
    ), status


def _pressed(number: str, field: str, first: str, second: str, neither: Message) -> bool:
    """Which of a form's two buttons was pressed (True: the first). A post naming neither (a
    client that dropped the button) is refused, never read as the other decision; only once
    the claim is known to be the user's (another shop's claim stays a 404)."""
    services.get_claim(session=request_session(), actor=actor(), number=number)
    value = request.form.get(field)
    if value not in (first, second):
        raise ValidationFailed(neither)
    return value == first


def _done(number: str, done: Message) -> Any:
    flash(translate(done), "success")
    return redirect(url_for("claims.detail", number=number))


@bp.post("/claims/<number>/answer")
@permission_required(MERCHANT_PORTAL)
def answer(number: str) -> Any:
    accept = _pressed(
        number,
        "answer",
        "accept",
        "dispute",
        msg("请选择认可理赔或提出异议"),
    )
    try:
        services.merchant_answer(
            session=request_session(),
            actor=actor(),
            number=number,
            accept=accept,
            note=request.form.get("note", ""),
            uploads=[f.read() for f in request.files.getlist("evidence")],
            files=files(),
            now=now(),
        )
    except ValidationFailed as exc:
        return _detail_page(number, errors=exc.fields, status=exc.status)
    return _done(number, msg("已提交答复"))


@bp.post("/claims/<number>/reinspect")
@permission_required(PLATFORM)
def reinspect(number: str) -> Any:
    services.reinspect(
        session=request_session(),
        actor=actor(),
        number=number,
        note=request.form.get("note", ""),
        now=now(),
    )
    return _done(number, msg("已安排复检"))


@bp.post("/claims/<number>/decide")
@permission_required(PLATFORM)
def decide(number: str) -> Any:
    """Two steps: the claim page's form asks for the confirmation (what is paid, what is
    revoked); only the confirmation, sent with confirm=1 and a note, decides."""
    form = request.form
    uphold = _pressed(
        number,
        "decision",
        "uphold",
        "reject",
        msg("请选择理赔成立或驳回理赔"),
    )
    postage_yuan = form.get("postage_yuan", "").strip()
    ground = form.get("ground") or None
    try:
        claim, money = services.preview_decision(
            session=request_session(),
            actor=actor(),
            number=number,
            uphold=uphold,
            ground=ground,
            postage_fen=yuan_to_fen(postage_yuan) if uphold and postage_yuan else None,
        )
    except ValidationFailed as exc:
        # The refusal belongs to the one field the decision reads: 邮费, or the ground.
        field = "postage_yuan" if uphold else "ground"
        return _detail_page(number, errors={field: exc.message}, status=exc.status)
    confirmation = _decision_confirmation(claim, uphold, money)

    def act(note: str) -> Any:
        services.decide(
            session=request_session(),
            actor=actor(),
            number=number,
            uphold=uphold,
            note=note,
            ground=ground,
            postage_fen=None if money is None else money.postage_fen,
            now=now(),
        )
        return _done(number, msg("已裁定"))

    return confirm_or_act(confirmation, act)


def _decision_confirmation(
    claim: Claim, uphold: bool, money: services.Payout | None
) -> Confirmation:
    back = url_for("claims.detail", number=claim.number)
    action = url_for("claims.decide", number=claim.number)
    if money is None:
        ground = str(request.form.get("ground"))
        return Confirmation(
            title=msg("确认驳回理赔 {number}", number=claim.number),
            action=action,
            button=msg("确认驳回理赔"),
            back=back,
            consequences=[
                msg("理赔 {number} 将被驳回，不予赔付。", number=claim.number),
                msg("证书保持有效，订单状态不变。"),
            ],
            facts=[(msg("驳回理由"), translate(GROUND_LABELS[RejectionGround(ground)]))],
            hidden={"decision": "reject", "ground": ground},
        )
    return Confirmation(
        title=msg("确认理赔成立 {number}", number=claim.number),
        action=action,
        button=msg("确认理赔成立并赔付 {total}", total=format_fen(money.total_fen)),
        back=back,
        consequences=[
            msg("向消费者赔付 {total}。", total=format_fen(money.total_fen)),
            msg("该物品的证书将被吊销，扫码验证显示“已吊销”。"),
            msg("订单显示理赔结果，商品合格率将计入这次理赔。"),
        ],
        facts=[
            (msg("退还实付款"), format_fen(money.refund_fen)),
            (msg("赔偿"), format_fen(money.compensation_fen)),
            (msg("邮费"), format_fen(money.postage_fen)),
            (msg("合计"), format_fen(money.total_fen)),
        ],
        hidden={"decision": "uphold", "postage_yuan": f"{money.postage_fen / 100:.2f}"},
    )


@bp.get("/claims/<number>/evidence/<int:evidence_id>")
@permission_required(CLAIMS)
def evidence(number: str, evidence_id: int) -> Any:
    row, data = services.evidence_file(
        session=request_session(),
        actor=actor(),
        number=number,
        evidence_id=evidence_id,
        files=files(),
    )
    # A PDF is downloaded, never rendered in the browser under our origin.
    mimetype, disposition = (
        ("image/jpeg", "inline") if row.kind == "jpg" else ("application/pdf", "attachment")
    )
    return upload_response(
        data,
        mimetype,
        cache="private, no-store",
        disposition=f'{disposition}; filename="evidence-{number}-{row.id}.{row.kind}"',
    )


__all__ = ["ClaimState", "bp"]
