from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from qc_app.auth import services, throttle
from qc_app.auth.models import User
from qc_app.auth.second_factor import qr_svg
from qc_app.authz import PLATFORM, SIGNED_IN, Role
from qc_app.db import parse_id, request_session
from qc_app.errors import DomainError, FieldErrors, TooManyAttempts, Unauthorized, ValidationFailed
from qc_app.i18n import msg
from qc_app.units import parse_int
from qc_app.web import (
    Principal,
    actor,
    form_again,
    limiter,
    list_page,
    now,
    permission_required,
    public,
    public_limit,
    render_list,
    safe_next,
    translate,
)

bp = Blueprint("auth", __name__)

HOME = {
    "merchant": "listings.index",
    "inspector": "intake.index",
    "analyst": "inspection.lab",
    "reviewer": "inspection.review_queue",
    "admin": "certificates.admin",
}
# The Flask session keys of a login between the password and the second factor.
PENDING, PENDING_NEXT = "pending_login", "pending_next"


@bp.get("/")
@public
def home() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("verification.verify_form"))
    return redirect(url_for(HOME[current_user.role]))


def _refused(template: str, exc: DomainError, **context: Any) -> Any:
    """A login step refused: the form again, the user name kept, never the password or code;
    a wrong code is said by its field."""
    if isinstance(exc, Unauthorized) and "code" in request.form:
        context.setdefault("errors", {"code": exc.message})
    return form_again(template, exc, **context)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(public_limit, methods=["POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", values={}, errors={})
    username = request.form.get("username", "").strip()
    address = get_remote_address()
    try:
        throttle.ensure_budget(username)
        step = services.login(
            session=request_session(),
            username=username,
            password=request.form.get("password", ""),
            address=address,
            now=now(),
        )
    except TooManyAttempts as exc:
        services.record_failed_login(
            session=request_session(),
            username=username,
            address=address,
            now=now(),
            reason="throttled",
        )
        return _refused("auth/login.html", exc)
    except Unauthorized as exc:
        throttle.spend(username)
        return _refused("auth/login.html", exc)
    except ValidationFailed as exc:
        return _refused("auth/login.html", exc)
    _new_session()
    target = safe_next(request.args.get("next"))
    if step.next == services.Next.DONE:
        return _signed_in(step.user, step.token, target)
    session[PENDING] = step.token
    if target:
        session[PENDING_NEXT] = target
    endpoint = "auth.second_factor" if step.next == services.Next.CODE else "auth.enrol"
    return redirect(url_for(endpoint))


def _new_session() -> None:
    """Nothing from before a login carries over (the language aside)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True


def _signed_in(user: User, token: str, target: str | None) -> Any:
    login_user(Principal(user, token))
    response = redirect(target or url_for(HOME[user.role]))
    return throttle.remember_device(response, user.username)


def _pending_token() -> str:
    token = session.get(PENDING)
    if not isinstance(token, str):
        raise Unauthorized(services.PENDING_GONE)
    return token


def _pending_user() -> User:
    return services.pending_user(session=request_session(), token=_pending_token(), now=now())


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(public_limit, methods=["POST"])
def second_factor() -> Any:
    """The second step: the six digits of the authenticator app, or a recovery code."""
    try:
        user = _pending_user()
    except Unauthorized as exc:
        return _refused("auth/login.html", exc)  # the password again, with the reason
    if request.method == "GET":
        return render_template("auth/second_factor.html", errors={})
    try:
        throttle.ensure_budget(user.username)
        user, token = services.complete_login(
            session=request_session(),
            token=_pending_token(),
            code=request.form.get("code", ""),
            address=get_remote_address(),
            now=now(),
        )
    except (TooManyAttempts, Unauthorized, ValidationFailed) as exc:
        if isinstance(exc, Unauthorized):
            throttle.spend(user.username)
        return _refused("auth/second_factor.html", exc)
    target = session.get(PENDING_NEXT)
    _new_session()
    return _signed_in(user, token, target)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@limiter.limit(public_limit, methods=["POST"])
def enrol() -> Any:
    """Staff without a second factor: scan the QR code into an authenticator app, type its
    first code; the login completes and the recovery codes are shown, this once."""
    try:
        user, uri = services.enrolment(session=request_session(), token=_pending_token(), now=now())
    except Unauthorized as exc:
        return _refused("auth/login.html", exc)
    qr = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(uri)).decode()
    context = {"qr": qr, "secret": user.totp_secret, "username": user.username}
    if request.method == "GET":
        return render_template("auth/enrol.html", **context)
    try:
        throttle.ensure_budget(user.username)
        user, token, codes = services.confirm_enrolment(
            session=request_session(),
            token=_pending_token(),
            code=request.form.get("code", ""),
            address=get_remote_address(),
            now=now(),
        )
    except (TooManyAttempts, Unauthorized) as exc:
        if isinstance(exc, Unauthorized):
            throttle.spend(user.username)
        return _refused("auth/enrol.html", exc, **context)
    target = session.get(PENDING_NEXT)
    _new_session()
    login_user(Principal(user, token))
    page = render_template(
        "auth/recovery_codes.html", codes=codes, target=target or url_for(HOME[user.role])
    )
    return throttle.remember_device(make_response(page), user.username)


@bp.post("/logout")
@permission_required(SIGNED_IN)
def logout() -> Any:
    services.logout(session=request_session(), token=current_user.token, now=now())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


# -- one's own API tokens ------------------------------------------------------------------------


@bp.route("/account/tokens", methods=["GET", "POST"])
@permission_required(SIGNED_IN)
def tokens() -> Any:
    """A user's own API tokens: made here with a name and a lifetime (staff give their
    authenticator's code), shown once."""
    me = actor()
    context: dict[str, Any] = {"needs_code": services.needs_second_factor(me), "now": now()}
    created = None
    if request.method == "POST":
        try:
            errors = FieldErrors()
            days = errors.take(
                "days", parse_int, request.form.get("days", "90"), field="days", low=1, high=365
            )
            throttle.ensure_budget(me.username)
            _row, created = services.create_token(
                session=request_session(),
                username=me.username,
                name=request.form.get("name", ""),
                lifetime=timedelta(days=days or 90),
                code=request.form.get("code", ""),
                now=now(),
                errors=errors,
            )
        except DomainError as exc:
            if isinstance(exc, Unauthorized):
                throttle.spend(me.username)
            rows = services.own_tokens(session=request_session(), user=me)
            return _refused("auth/tokens.html", exc, tokens=rows, created=None, **context)
    rows = services.own_tokens(session=request_session(), user=me)
    return render_template(
        "auth/tokens.html", tokens=rows, created=created, values={}, errors={}, **context
    )


# -- the admin's user pages ----------------------------------------------------------------------

ROLES = [role.value for role in Role]


@bp.get("/admin/users")
@permission_required(PLATFORM)
def users() -> Any:
    found = list_page(
        services.user_list(), opens=lambda user: url_for("auth.user", user_id=user.id)
    )
    return render_list("auth/users.html", found)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@permission_required(PLATFORM)
def new_user() -> Any:
    if request.method == "GET":
        return render_template("auth/user_new.html", values={}, errors={}, roles=ROLES)
    form = request.form
    try:
        errors = FieldErrors()
        user = services.create_user(
            session=request_session(),
            actor=actor(),
            username=form.get("username", "").strip(),
            password=form.get("password", ""),
            role=_role(form.get("role", "")),
            display_name=form.get("display_name", ""),
            testing_body_id=_optional_id(form, "testing_body_id", errors),
            merchant_id=_optional_id(form, "merchant_id", errors),
            now=now(),
            errors=errors,
        )
    except DomainError as exc:
        return form_again("auth/user_new.html", exc, roles=ROLES)
    flash(translate(msg("已创建用户 {username}", username=user.username)), "success")
    return redirect(url_for("auth.user", user_id=user.id))


def _role(value: str) -> Role:
    if value not in ROLES:
        unknown = msg("未知角色：{role}", role=value[:20])
        raise ValidationFailed(unknown, fields={"role": unknown})
    return Role(value)


def _optional_id(form: Mapping[str, str], field: str, errors: FieldErrors) -> int | None:
    """An optional id field; a bad one is noted in `errors` (the service names it with the
    rest) and read as absent."""
    value = form.get(field)
    return errors.take(field, parse_id, value, field=field) if value else None


@bp.get("/admin/users/<int:user_id>")
@permission_required(PLATFORM)
def user(user_id: int) -> Any:
    return _user_page(user_id)


def _user_page(user_id: int, refused: DomainError | None = None) -> Any:
    """The account page; with `refused`, the role or password form that was refused is shown
    again with its problem by its field (the role form keeps what was chosen)."""
    db = request_session()
    user = services.get_user(session=db, actor=actor(), user_id=user_id)
    context = {
        "user": user,
        # the role form shows what was chosen when it was the one refused, else the account's
        "role_values": request.form if "role" in request.form else user,
        "tokens": services.tokens_of(session=db, actor=actor(), user_id=user_id),
        "roles": ROLES,
        "now": now(),
    }
    if refused is None:
        return render_template("auth/user.html", errors={}, **context)
    return form_again("auth/user.html", refused, **context)


def _changed(user_id: int) -> Any:
    flash(translate(msg("已保存")), "success")
    return redirect(url_for("auth.user", user_id=user_id))


# One form per change to an account, each a service with its audit event; a refusal comes back
# to the user's page as a message (web._register_errors).


@bp.post("/admin/users/<int:user_id>/deactivate")
@permission_required(PLATFORM)
def deactivate_user(user_id: int) -> Any:
    db = request_session()
    services.set_active(session=db, actor=actor(), user_id=user_id, active=False, now=now())
    return _changed(user_id)


@bp.post("/admin/users/<int:user_id>/activate")
@permission_required(PLATFORM)
def activate_user(user_id: int) -> Any:
    db = request_session()
    services.set_active(session=db, actor=actor(), user_id=user_id, active=True, now=now())
    return _changed(user_id)


@bp.post("/admin/users/<int:user_id>/password")
@permission_required(PLATFORM)
def reset_password(user_id: int) -> Any:
    try:
        services.reset_password(
            session=request_session(),
            actor=actor(),
            user_id=user_id,
            password=request.form.get("password", ""),
            now=now(),
        )
    except ValidationFailed as exc:
        return _user_page(user_id, exc)
    return _changed(user_id)


@bp.post("/admin/users/<int:user_id>/role")
@permission_required(PLATFORM)
def change_role(user_id: int) -> Any:
    form = request.form
    try:
        errors = FieldErrors()
        services.change_role(
            session=request_session(),
            actor=actor(),
            user_id=user_id,
            role=_role(form.get("role", "")),
            testing_body_id=_optional_id(form, "testing_body_id", errors),
            merchant_id=_optional_id(form, "merchant_id", errors),
            now=now(),
            errors=errors,
        )
    except ValidationFailed as exc:
        return _user_page(user_id, exc)
    return _changed(user_id)


@bp.post("/admin/users/<int:user_id>/second-factor")
@permission_required(PLATFORM)
def reset_second_factor(user_id: int) -> Any:
    services.reset_second_factor(
        session=request_session(), actor=actor(), user_id=user_id, now=now()
    )
    return _changed(user_id)


@bp.post("/admin/users/<int:user_id>/revoke-token")
@permission_required(PLATFORM)
def revoke_token(user_id: int) -> Any:
    token_id = parse_id(request.form.get("token_id"), field="token_id")
    services.revoke_token(session=request_session(), actor=actor(), token_id=token_id, now=now())
    return _changed(user_id)


@bp.get("/admin/logins")
@permission_required(PLATFORM)
def failed_logins() -> Any:
    return render_template(
        "auth/failed_logins.html",
        events=services.failed_logins(session=request_session(), actor=actor()),
        reasons={key: translate(text) for key, text in FAILURE_REASONS.items()},
    )


FAILURE_REASONS = {
    "password": msg("用户名或密码错误"),
    "code": msg("验证码错误"),
    "throttled": msg("失败过多，已延迟"),
}
