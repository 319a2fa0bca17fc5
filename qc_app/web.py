"""Web plumbing shared by every blueprint: login, roles, CSRF, rate limits, locale, headers,
and the one place where domain errors become HTTP responses or flash messages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import Babel, get_translations
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2.runtime import Context
from jinja2.utils import pass_context
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from qc_app import inputs, lists, requestid
from qc_app.auth.models import User
from qc_app.auth.services import user_for_session
from qc_app.authz import ROLE_LABELS, Guarded, allows
from qc_app.certificates.workflow import STATUS_LABELS as CERTIFICATE_LABELS
from qc_app.claims.models import GROUND_LABELS, REASON_LABELS
from qc_app.claims.workflow import STATE_LABELS as CLAIM_LABELS
from qc_app.config import Config
from qc_app.db import MAX_DB_INT, request_session
from qc_app.errors import DomainError, Forbidden, TooManyAttempts, Unavailable, ValidationFailed
from qc_app.i18n import Message, msg, verbatim
from qc_app.inspection.workflow import STATE_LABELS as REVIEW_LABELS
from qc_app.inspection.workflow import VERDICT_LABELS
from qc_app.items.workflow import STATE_LABELS
from qc_app.orders.workflow import ORDER_STATE_LABELS
from qc_app.rules.engine import load_ruleset
from qc_app.rules.grading import CUT_LABELS, FLUORESCENCE_LABELS
from qc_app.sqltypes import utcnow
from qc_app.storage import Storage, StorageError
from qc_app.units import FIELD_LABELS, cg_to_mass, format_fen, local_time
from qc_app.warehouse.mass import ALARM_LABELS

log = logging.getLogger("qc_app")
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])
LOCALES = ("zh", "en")
# Every kind of key a page may name, with its words: `{{ key|label('role') }}`. The tables live
# with their domain (each workflow's states, claims' reasons, the warehouse's alarms, ...).
KEY_LABELS: dict[str, Mapping[Any, Message]] = {
    "item": STATE_LABELS,
    "review": REVIEW_LABELS,
    "verdict": VERDICT_LABELS,
    "order": ORDER_STATE_LABELS,
    "certificate": CERTIFICATE_LABELS,
    "claim": CLAIM_LABELS,
    "reason": REASON_LABELS,
    "ground": GROUND_LABELS,
    "alarm": ALARM_LABELS,
    "role": ROLE_LABELS,
    "field": FIELD_LABELS,
    "cut": CUT_LABELS,
    "fluorescence": FLUORESCENCE_LABELS,
}


class Principal(UserMixin):  # type: ignore[misc]
    """The logged-in user as Flask-Login sees it: its id is the server-side session token."""

    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def role(self) -> str:
        return str(self.user.role)


def config() -> Config:
    from flask import current_app

    return current_app.config["QC"]  # type: ignore[no-any-return]


def files() -> Storage:
    """The app's file store (made by create_app from QC_STORAGE_URL)."""
    from flask import current_app

    return current_app.extensions["qc_storage"]  # type: ignore[no-any-return]


def now() -> datetime:
    return utcnow()


def actor() -> User:
    return current_user.user  # type: ignore[no-any-return]


def locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "zh"


def lang_url(code: str) -> str:
    """This page in another language: the query is kept (a QR link's k and s included)."""
    args = request.args.to_dict(flat=False) | {"lang": [code]}
    return f"{request.path}?{urlencode(args, doseq=True)}"


def _translations() -> Any:
    found = g.get("qc_translations")
    if found is None:
        found = g.qc_translations = get_translations()
    return found


_CATALOG = "qc_catalog"  # in every template's context: the request's catalogue
_ZONE = "qc_zone"  # and the zone its times are shown in


def _catalog(context: Context) -> Any:
    return context.get(_CATALOG) or _translations()


@pass_context
def _gettext(context: Context, text: str) -> str:
    return _catalog(context).ugettext(text)  # type: ignore[no-any-return]


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _catalog(context).ungettext(singular, plural, n)  # type: ignore[no-any-return]


def public_limit() -> str:
    """The rate limit of the pages and calls anyone may make (the consumer's)."""
    return config().PUBLIC_RATE_LIMIT


def translate(message: Message) -> str:
    """A Message in the request's language (flash messages, texts a view hands a template)."""
    return message.render(_translations())


def permission_required(what: Guarded) -> Callable[[F], F]:
    """The page needs a signed-in user whom `authz.allows` lets do `what` (a permission or a
    workflow transition, whose table row names the roles)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allows(actor(), what):
                raise Forbidden(msg("您的角色无权访问此页面"))
            return view(*args, **kwargs)

        wrapped.qc_roles = tuple(sorted(what.roles))  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Marks a route as deliberately open to anyone (checked by the route audit test)."""
    view.qc_public = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None) -> str | None:
    """Only a relative path on this site (no scheme, no host) may follow a login."""
    if not target:
        return None
    parts = urlsplit(target)
    ok = not parts.scheme and not parts.netloc and target.startswith("/")
    return target if ok and not target.startswith("//") else None


def back(default: str) -> Response:
    return redirect(safe_next(request.form.get("back")) or default)


# -- irreversible actions: a confirmation step and a note ----------------------------------------


@dataclass(frozen=True)
class Confirmation:
    """The second step of an irreversible action (a claim decided, a certificate revoked or
    reissued, a hold released): what will happen, said before it does, and the note it needs.
    The first POST (no confirm=1) shows this page; only its form, sent with confirm=1 and a
    note, acts: Enter in a field of the first form never decides anything."""

    title: Message
    action: str  # where the confirmed form posts (the same route as the first step)
    button: Message
    back: str  # the page the user came from (cancel)
    consequences: list[Message]  # what will happen, one sentence each
    facts: list[tuple[Message, str]] = field(default_factory=list)  # figures: label, value
    hidden: dict[str, str] = field(default_factory=dict)  # what the first step sent
    note_label: Message = field(default_factory=lambda: msg("说明（必填，记入审计记录）"))
    danger: bool = True


NOTE_REQUIRED = msg("请填写说明：不可撤销的操作须说明理由，记入审计记录")


def confirmed_note() -> str | None:
    """None until the user confirmed (confirm=1); then the required note, or a refusal that
    names the note field (the confirmation page shows it there)."""
    if request.form.get("confirm") != "1":
        return None
    note = (request.form.get("note") or "").strip()
    if not note:
        raise ValidationFailed(NOTE_REQUIRED, fields={"note": NOTE_REQUIRED})
    return note


def confirm_page(
    confirmation: Confirmation, *, errors: Mapping[str, Message] | None = None
) -> tuple[str, int]:
    """The confirmation page; with `errors` (a missing note) shown again as refused (422),
    with what was typed."""
    page = render_template(
        "confirm.html",
        c=confirmation,
        note=request.form.get("note", ""),
        errors=dict(errors or {}),
    )
    return page, 422 if errors else 200


# What a refused form never shows again: secrets typed once, and the form's own token.
NOT_KEPT = frozenset({"csrf_token", "password", "code"})


def form_again(template: str, exc: DomainError, **context: Any) -> tuple[str, int, dict[str, str]]:
    """A refused form shown again (views translate): what was typed kept as `values` (never a
    password or a one-time code; a view with multi-valued fields passes its own), each field's
    problem as `errors` next to its field, the refusal as a whole as `error`; the refusal's
    status (422 for ValidationFailed), and Retry-After when a budget is spent."""
    context.setdefault("values", {k: v for k, v in request.form.items() if k not in NOT_KEPT})
    context.setdefault("errors", exc.fields if isinstance(exc, ValidationFailed) else {})
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
    return render_template(template, error=exc, **context), exc.status, headers


def confirm_or_act(confirmation: Confirmation, act: Callable[[str], Any]) -> Any:
    """Show the confirmation until it is confirmed with a note; then `act(note)`."""
    try:
        note = confirmed_note()
    except ValidationFailed as exc:
        return confirm_page(confirmation, errors=exc.fields)
    if note is None:
        return confirm_page(confirmation)
    return act(note)


# -- list pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """What a list template hands templates/_lists.html: the page, the filters the list offers,
    the merchants its merchant filter names (staff lists), why a filter was refused."""

    page: lists.Page
    spec: lists.ListSpec
    merchants: Sequence[tuple[int, str]] = ()

    @property
    def rows(self) -> list[Any]:
        return self.page.rows

    @property
    def values(self) -> Mapping[str, str]:
        return self.page.query.values

    @property
    def refusals(self) -> Mapping[str, Message]:
        return self.page.query.refusals


def list_page(
    found: lists.ListFound,
    *,
    opens: Callable[[Any], str] | None = None,
    merchants: Sequence[tuple[int, str]] = (),
    size: int | None = None,
) -> Listing | Response:
    """A list page's rows for the request's filters and cursor (`found`: what the list's
    service selects, isolation included). A code a scanner sent that matches one row exactly
    opens that row (`opens` gives its page) instead of listing it."""
    spec, query = found
    choices = lists.parse(
        request.args, spec, zone=config().zone, materials=load_ruleset().declarations
    )
    if opens is not None:
        sole = lists.sole(request_session(), query, spec, choices)
        if sole is not None:
            return redirect(opens(sole))
    page = lists.page(request_session(), query, spec, choices, size=size or lists.PAGE_SIZE)
    return Listing(page=page, spec=spec, merchants=merchants)


def render_list(template: str, listing: Listing | Response, **context: Any) -> Any:
    """The list's template, or the record a scanner's code opened; a refused filter is said
    next to it with status 422 (the page is still the list, ready for a corrected value)."""
    if isinstance(listing, Response):
        return listing
    status = 422 if listing.refusals else 200
    return render_template(template, listing=listing, **context), status


# -- scanner terminals (intake, packing) ----------------------------------------------------------


def station(kind: str) -> str:
    """Where a custody event happened: the station kind and the terminal (cookie or address)."""
    terminal = request.cookies.get("qc_terminal") or request.remote_addr or "?"
    return f"{kind}@{terminal}"[:40]


def refusals_back_to(target: Callable[..., str]) -> Callable[[F], F]:
    """A refused scan shows the red panel on the scanner page and the input is ready again.

    The generic handler returns to the Referer, and only for 400/409/422; a scanner step goes
    to the page of the next scan (the consignment, not the weighing form), and an unknown code
    (404) is a refusal too: a scanner terminal must never land on a dead-end error page.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except DomainError as exc:
                if exc.status not in (400, 404, 409, 422):
                    raise
                flash(translate(exc.message), "error")
                return redirect(target(**kwargs))

        return wrapped  # type: ignore[return-value]

    return decorate


class DatabaseInt(IntegerConverter):
    """`<int:…>` route arguments stop at the database's integer range: a larger id is a plain
    404, not a PostgreSQL overflow error (500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    requestid.init_app(app)
    inputs.init_app(app)  # before CSRF: text no column can store is refused first, and clearly
    app.url_map.converters["int"] = DatabaseInt
    csrf.init_app(app)
    limiter.init_app(app)
    Babel(app, locale_selector=locale)
    # Templates take the catalogue from their context, put there once per render (_globals):
    # flask-babel's own callables resolve the request context and locale again for every
    # string, and even a lookup in `g` per string was a tenth of the consumer page's time.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n's
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录 Please log in"
    login_manager.session_protection = "basic"

    @login_manager.user_loader  # type: ignore[untyped-decorator]  # flask-login is unannotated
    def _load(token: str) -> Principal | None:
        qc = config()
        user = user_for_session(
            session=request_session(),
            token=token,
            now=now(),
            idle=qc.IDLE_TIMEOUTS,
            absolute=qc.ABSOLUTE_TIMEOUT,
        )
        return Principal(user, token) if user else None

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "lang": locale(),
            "lang_url": lang_url,
            "format_fen": format_fen,
            _CATALOG: _translations(),
            _ZONE: config().zone,
        }

    @app.template_filter("tr")
    @pass_context
    def _tr(context: Context, message: Message) -> str:
        return message.render(_catalog(context))

    @app.template_filter("label")
    @pass_context
    def _label(context: Context, key: str | None, kind: str) -> str:
        found = KEY_LABELS[kind].get(key)
        return found.render(_catalog(context)) if found is not None else str(key or "")

    @app.template_filter("material")
    @pass_context
    def _material(context: Context, code: str | None) -> str:
        return load_ruleset().material_name(code).render(_catalog(context)) if code else "—"

    @app.template_filter("when")
    @pass_context
    def _when(context: Context, moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """Every time a page shows, in Config.TIMEZONE (stored in UTC)."""
        if moment is None:
            return "—"
        return local_time(moment, context.get(_ZONE) or config().zone, pattern)

    @app.template_filter("grams")
    def _grams(centigrams: int | None) -> str:
        return "—" if centigrams is None else f"{cg_to_mass(centigrams)} g"

    # Kept in memory and sent whole: a browser that leaves the page while its icon is sent
    # must not leave a static file's handle open (one ResourceWarning per dropped request).
    icon = (Path(str(app.static_folder)) / "favicon.ico").read_bytes()

    @public
    def _favicon() -> Response:
        return Response(
            icon,
            mimetype="image/vnd.microsoft.icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.after_request(_security_headers)
    _register_errors(app)


def exempt_api(app: Flask, api: Blueprint) -> None:
    # The API takes bearer tokens only and never reads the session cookie, so CSRF cannot apply.
    csrf.exempt(api)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: our own POST pages need the Referer to return to the form with the message
    # (no-referrer left browsers on a dead-end error page); other sites never see our URLs.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=()")
    if config().COOKIE_SECURE:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


# A file someone uploaded is never a page of ours: sandboxed (no scripts, no same origin, no
# forms), loading nothing; its type is fixed, and _security_headers adds nosniff to every response.
UPLOAD_CSP = "default-src 'none'; sandbox"


def upload_response(
    data: bytes, mimetype: str, *, cache: str, disposition: str | None = None
) -> Response:
    """Serve a stored upload (a re-encoded photo, a checked evidence PDF)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["Cache-Control"] = cache
    if disposition:
        response.headers["Content-Disposition"] = disposition
    return response


def download(data: bytes, mimetype: str, filename: str) -> Response:
    """A file we made (a certificate PDF, labels), shown inline under `filename`."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/.well-known/")


def error_json(code: str, message: str, status: int, **extra: Any) -> tuple[Any, int]:
    from flask import jsonify

    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        headers = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        if _wants_json():
            extra: dict[str, Any] = {"message_zh": exc.message.render("zh")}
            if isinstance(exc, ValidationFailed) and exc.fields:
                extra["fields"] = {
                    name: {"message": m.render("en"), "message_zh": m.render("zh")}
                    for name, m in exc.fields.items()
                }
            body, status = error_json(exc.code, exc.message.render("en"), exc.status, **extra)
            return body, status, headers
        if request.method == "POST" and exc.status in (409, 422, 400) and request.referrer:
            flash(translate(exc.message), "error")
            return redirect(safe_next(urlsplit(request.referrer).path) or request.path)
        return render_template("error.html", error=exc, status=exc.status), exc.status, headers

    @app.errorhandler(StorageError)
    def _storage(exc: StorageError) -> Any:
        # Files are stored before their row commits: a store that fails leaves no row behind.
        log.error("file store failed on %s %s: %s", request.method, request.path, exc)
        return _domain(Unavailable(msg("文件存储暂时无法访问，本次操作未生效，请稍后重试")))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return render_template(
            "error.html",
            status=400,
            error=DomainError(msg("表单已失效，请刷新页面后重试")),
        ), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status == 429:
            # A Flask-Limiter limit: said in words, with the wait, as the check-code budgets are.
            current = limiter.current_limit
            wait_s = current.reset_at - time.time() if current else 60.0
            return _domain(TooManyAttempts(msg("请求过于频繁。"), wait_s=wait_s))
        # What the exception says besides its page, e.g. the Allow header of a 405.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            code = {
                401: "unauthorized",
                404: "not_found",
                405: "method_not_allowed",
                413: "too_large",
            }.get(status, "bad_request")
            return (*error_json(code, exc.description or exc.name, status), headers)
        return (
            render_template(
                "error.html",
                status=status,
                error=DomainError(verbatim(exc.description or exc.name)),
            ),
            status,
            headers,
        )

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Any:
        # The record carries the request id (requestid.RequestIdFilter); the page shows it, and
        # nothing of the exception: no traceback, no file path.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_json("internal", "internal error", 500, request_id=requestid.current())
        return render_template(
            "error.html",
            status=500,
            error=DomainError(msg("系统错误，请稍后重试")),
            request_id=requestid.current(),
        ), 500

    @app.before_request
    def _language_cookie() -> None:
        if request.args.get("lang") in LOCALES:
            session["lang"] = request.args["lang"]
