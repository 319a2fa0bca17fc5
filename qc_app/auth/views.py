from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from qc_app.auth import services
from qc_app.authz import SIGNED_IN
from qc_app.db import request_session
from qc_app.errors import Unauthorized
from qc_app.web import (
    Principal,
    config,
    limiter,
    now,
    permission_required,
    public,
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


@bp.get("/")
@public
def home() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("verification.verify_form"))
    return redirect(url_for(HOME[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: config().LOGIN_RATE_LIMIT, methods=["POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            user, token = services.login(
                session=request_session(),
                username=request.form.get("username", "").strip(),
                password=request.form.get("password", ""),
                now=now(),
            )
        except Unauthorized as exc:
            error = translate(exc.message)
        else:
            lang = session.get("lang")
            session.clear()  # a new session on login: nothing from before carries over
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(Principal(user, token))
            return redirect(safe_next(request.args.get("next")) or url_for(HOME[user.role]))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
@permission_required(SIGNED_IN)
def logout() -> Any:
    services.logout(session=request_session(), token=current_user.token, now=now())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
