"""Users, logins, the second factor and API tokens.

Sessions live on the server: logout ends them for every copy, and deactivating a user, a new
password, a new role or a reset second factor ends all of theirs. A user who needs a second
factor (staff always, a merchant once enrolled) gets from the password only a pending login,
which opens no page. A failed login is recorded in a transaction of its own, so the refusal
raised after it cannot roll the record back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qc_app import audit
from qc_app.audit import AuditEvent
from qc_app.auth import second_factor
from qc_app.auth.models import ApiToken, RecoveryCode, User, UserSession
from qc_app.auth.passwords import check_policy, hash_password, verify_password
from qc_app.authz import LAB, PLATFORM, Role, authorize, second_factor_required
from qc_app.db import new_session, write
from qc_app.errors import Conflict, FieldErrors, NotFound, Unauthorized, ValidationFailed
from qc_app.i18n import msg
from qc_app.lists import ListFound, ListSpec

# The second factor must follow the password within this time, or the password again.
PENDING_LOGIN = timedelta(minutes=5)
TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=365)
WRONG_PASSWORD = msg("用户名或密码错误")
WRONG_CODE = msg("动态验证码或恢复码错误")
PENDING_GONE = msg("登录已过期，请重新输入用户名和密码")
NO_USER = msg("没有此用户")


class Next(StrEnum):
    """What a login still needs after the password."""

    DONE = "done"
    CODE = "code"  # the authenticator's code (or a recovery code)
    ENROL = "enrol"  # staff without a second factor yet: enrol one first


@dataclass(frozen=True)
class LoginStep:
    user: User
    token: str
    next: Next


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def needs_second_factor(user: User) -> bool:
    return second_factor_required(user) or user.totp_confirmed_at is not None


def _check_staff_links(
    role: Role, merchant_id: int | None, testing_body_id: int | None, errors: FieldErrors
) -> None:
    if role == Role.MERCHANT and merchant_id is None:
        errors.add("merchant_id", msg("商家账号必须关联商家"))
    if role in LAB and testing_body_id is None:
        errors.add("testing_body_id", msg("检测人员必须属于检测机构"))


def create_user(
    *,
    session: Session,
    actor: User | None,
    username: str,
    password: str,
    role: Role | str,
    display_name: str,
    now: datetime,
    merchant_id: int | None = None,
    testing_body_id: int | None = None,
    demo: bool = False,
    errors: FieldErrors | None = None,
) -> User:
    """A new account (`actor` None: the operator at the CLI). `demo` lets the demo data use
    the demo password, which every other account is refused. Every field's problem is named
    at once, with those the caller found reading the form (`errors`)."""
    if actor is not None:
        authorize(actor, PLATFORM)
    role = Role(role)
    errors = errors or FieldErrors()
    _check_staff_links(role, merchant_id, testing_body_id, errors)
    if not 1 <= len(username) <= 64:
        errors.add("username", msg("请填写用户名（最多 64 个字符）"))
    if not display_name.strip():
        errors.add("display_name", msg("请填写姓名"))
    errors.take("password", check_policy, password, username=username, demo=demo)
    errors.check()
    with write(session):
        if session.exec(select(User).where(User.username == username)).first():
            raise Conflict(msg("用户名已存在：{username}", username=username))
        user = User(
            username=username,
            display_name=display_name.strip(),
            role=role,
            password_hash=hash_password(password, username=username, demo=demo),
            merchant_id=merchant_id,
            testing_body_id=testing_body_id,
            created_at=now,
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user_created",
            entity="user",
            entity_id=username,
            at=now,
            role=role.value,
        )
    return user


def record_failed_login(
    *, session: Session, username: str, address: str, now: datetime, reason: str
) -> None:
    """One failed login in the audit log, in a session and transaction of its own: the
    refusal raised after it rolls nothing of it back."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with new_session(engine) as own, write(own):
        audit.record(
            own,
            actor=None,
            action="login_failed",
            entity="user",
            entity_id=username[:64],
            at=now,
            address=address[:64],
            reason=reason,
        )


def login(
    *, session: Session, username: str, password: str, address: str, now: datetime
) -> LoginStep:
    """Check the password and open a server-side session; returns its cookie token and what
    the login still needs. For staff the session stays pending until the second factor.
    A blank field is named as such (422) and is no failed attempt."""
    errors = FieldErrors()
    if not username:
        errors.add("username", msg("请填写用户名"))
    if not password:
        errors.add("password", msg("请填写密码"))
    errors.check()
    user = session.exec(select(User).where(User.username == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        record_failed_login(
            session=session, username=username, address=address, now=now, reason="password"
        )
        raise Unauthorized(WRONG_PASSWORD)
    token = secrets.token_urlsafe(32)
    with write(session, user):
        step = Next.DONE
        if needs_second_factor(user):
            step = Next.CODE
            if user.totp_confirmed_at is None:
                # A fresh secret for every enrolment: a QR code someone saw on an earlier,
                # abandoned attempt is worth nothing.
                step, user.totp_secret = Next.ENROL, second_factor.new_secret()
                session.add(user)
        session.add(
            UserSession(
                id_hash=_digest(token), user_id=user.id or 0, created_at=now, last_seen_at=now
            )
        )
        if step == Next.DONE:
            _record_login(session, user, now, address=address)
    return LoginStep(user, token, step)


def _record_login(session: Session, user: User, now: datetime, **details: str) -> None:
    name = user.username
    audit.record(
        session, actor=user, action="login", entity="user", entity_id=name, at=now, **details
    )


def _pending(session: Session, token: str, now: datetime) -> tuple[UserSession, User]:
    row = session.get(UserSession, _digest(token))
    user = session.get(User, row.user_id) if row is not None else None
    if (
        row is None
        or user is None
        or not user.active
        or row.ended_at is not None
        or row.second_factor_at is not None
        or now - row.created_at > PENDING_LOGIN
    ):
        raise Unauthorized(PENDING_GONE)
    return row, user


def pending_user(*, session: Session, token: str, now: datetime) -> User:
    """The user whose password opened this pending login (401 once it is stale)."""
    return _pending(session, token, now)[1]


def _take_second_factor(session: Session, user: User, code: str, now: datetime) -> str | None:
    """Inside a write holding `user`: use up `code` (a TOTP code for a step not used before,
    or an unused recovery code); returns which it was, or None."""
    if user.totp_secret is not None and user.totp_confirmed_at is not None:
        step = second_factor.accepted_step(
            user.totp_secret, code, now=now, last_step=user.totp_last_step
        )
        if step is not None:
            user.totp_last_step = step
            session.add(user)
            return "totp"
    recovery = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == second_factor.recovery_hash(code),
            col(RecoveryCode.used_at).is_(None),
        )
    ).first()
    if recovery is None:
        return None
    recovery.used_at = now
    session.add(recovery)
    return "recovery_code"


def _open_session(session: Session, pending: UserSession, now: datetime) -> str:
    """The full session replacing a pending one: a new token, so the pending one is spent."""
    pending.ended_at = now
    session.add(pending)
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=_digest(token),
            user_id=pending.user_id,
            created_at=now,
            last_seen_at=now,
            second_factor_at=now,
        )
    )
    return token


CODE_REQUIRED = msg("请填写验证码")


def complete_login(
    *, session: Session, token: str, code: str, address: str, now: datetime
) -> tuple[User, str]:
    """The second step: the authenticator's code or a recovery code; returns the user and the
    token of the session that now opens their pages."""
    row, user = _pending(session, token, now)
    if user.totp_confirmed_at is None:
        raise Unauthorized(PENDING_GONE)
    if not code.strip():
        raise ValidationFailed(CODE_REQUIRED, fields={"code": CODE_REQUIRED})
    with write(session, user):
        used = _take_second_factor(session, user, code, now)
        if used is not None:
            full = _open_session(session, row, now)
            _record_login(session, user, now, address=address, second_factor=used)
    if used is None:
        record_failed_login(
            session=session, username=user.username, address=address, now=now, reason="code"
        )
        raise Unauthorized(WRONG_CODE)
    return user, full


def enrolment(*, session: Session, token: str, now: datetime) -> tuple[User, str]:
    """The user of a pending login that must enrol, and the otpauth URI of their new secret."""
    user = pending_user(session=session, token=token, now=now)
    if user.totp_confirmed_at is not None or user.totp_secret is None:
        raise Unauthorized(PENDING_GONE)
    return user, second_factor.provisioning_uri(user.totp_secret, user.username)


def confirm_enrolment(
    *, session: Session, token: str, code: str, address: str, now: datetime
) -> tuple[User, str, list[str]]:
    """The first code from the authenticator confirms the secret: the login completes, and
    ten recovery codes are made, returned this once (only their hashes are kept)."""
    row, user = _pending(session, token, now)
    if user.totp_confirmed_at is not None or user.totp_secret is None:
        raise Unauthorized(PENDING_GONE)
    codes = second_factor.new_recovery_codes()
    with write(session, user):
        step = second_factor.accepted_step(user.totp_secret, code, now=now, last_step=None)
        if step is not None:
            user.totp_confirmed_at, user.totp_last_step = now, step
            session.add(user)
            _replace_recovery_codes(session, user, codes)
            full = _open_session(session, row, now)
            audit.record(
                session,
                actor=user,
                action="second_factor_enrolled",
                entity="user",
                entity_id=user.username,
                at=now,
            )
            _record_login(session, user, now, address=address, second_factor="totp")
    if step is None:
        record_failed_login(
            session=session, username=user.username, address=address, now=now, reason="code"
        )
        raise Unauthorized(WRONG_CODE)
    return user, full, codes


def _replace_recovery_codes(session: Session, user: User, codes: list[str]) -> None:
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    for code in codes:
        session.add(RecoveryCode(user_id=user.id or 0, code_hash=second_factor.recovery_hash(code)))


def user_for_session(
    *,
    session: Session,
    token: str,
    now: datetime,
    idle: Mapping[Role, timedelta],
    absolute: timedelta,
) -> User | None:
    """The user of a live session: not ended, not idle longer than their role allows, not
    older than `absolute`, the second factor given if they need one, the account active."""
    row = session.get(UserSession, _digest(token))
    if row is None or row.ended_at is not None or now - row.created_at > absolute:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or now - row.last_seen_at > idle[Role(user.role)]:
        return None
    if row.second_factor_at is None and needs_second_factor(user):
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        # Sliding idle timeout, written at most once a minute.
        with write(session):
            row.last_seen_at = now
            session.add(row)
    return user


def logout(*, session: Session, token: str, now: datetime) -> None:
    with write(session):
        row = session.get(UserSession, _digest(token))
        if row is None or row.ended_at is not None:
            return
        row.ended_at = now
        session.add(row)
        user = session.get(User, row.user_id)
        audit.record(
            session,
            actor=user,
            action="logout",
            entity="user",
            entity_id=user.username if user else "?",
            at=now,
        )


def create_token(
    *,
    session: Session,
    username: str,
    now: datetime,
    name: str = "token",
    lifetime: timedelta = TOKEN_LIFETIME,
    code: str = "",
    errors: FieldErrors | None = None,
) -> tuple[ApiToken, str]:
    """A bearer token for USERNAME (the row, and the token shown this once). A user who needs
    a second factor gives its code: a stolen password alone makes no token. Every field's
    problem is named at once, with those the caller found reading the form (`errors`)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise ValidationFailed(msg("没有用户 {username}", username=username))
    errors = errors or FieldErrors()
    name = name.strip()
    if not 1 <= len(name) <= 64:
        errors.add("name", msg("令牌名称须为 1–64 个字符"))
    if not timedelta(days=1) <= lifetime <= MAX_TOKEN_LIFETIME:
        errors.add("days", msg("令牌有效期须为 1–365 天"))
    errors.check()
    token = "qct_" + secrets.token_urlsafe(32)
    with write(session, user):
        if needs_second_factor(user) and _take_second_factor(session, user, code, now) is None:
            raise Unauthorized(WRONG_CODE)
        row = ApiToken(
            token_hash=_digest(token),
            user_id=user.id or 0,
            name=name,
            created_at=now,
            expires_at=now + lifetime,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=user,
            action="token_created",
            entity="user",
            entity_id=user.username,
            at=now,
            token_id=row.id,
            name=name,
            expires_at=row.expires_at.isoformat(),
        )
    return row, token


def user_for_token(*, session: Session, token: str, now: datetime) -> User | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        # Last use, written at most once a minute (the admin's token list shows it).
        with write(session):
            row.last_used_at = now
            session.add(row)
    return user


# -- the admin's user page and `flask qc users` (actor None: the operator at the CLI) -----------


def _admin(actor: User | None) -> None:
    if actor is not None:
        authorize(actor, PLATFORM)


def list_users(*, session: Session, actor: User | None) -> list[User]:
    _admin(actor)
    return list(session.exec(select(User).order_by(col(User.username))))


def user_list() -> ListFound:
    """The staff and merchant accounts, newest first; found by username or name (a username
    typed exactly opens the account), narrowed by role and the day it was made."""
    spec = ListSpec(
        key=col(User.id),
        search=(col(User.display_name),),
        exact=(col(User.username),),
        state=col(User.role),
        states=tuple(Role),
        state_kind="role",
        when=col(User.created_at),
    )
    return spec, select(User)


def get_user(*, session: Session, actor: User | None, user_id: int) -> User:
    _admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER)
    return user


def user_by_name(*, session: Session, actor: User | None, username: str) -> User:
    _admin(actor)
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(NO_USER)
    return user


def _tokens(session: Session, user_id: int | None) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    return list(session.exec(query.order_by(col(ApiToken.created_at).desc())))


def tokens_of(*, session: Session, actor: User | None, user_id: int) -> list[ApiToken]:
    """A user's API tokens, newest first, for the admin's user page."""
    _admin(actor)
    return _tokens(session, user_id)


def failed_logins(*, session: Session, actor: User | None, limit: int = 200) -> list[AuditEvent]:
    _admin(actor)
    query = select(AuditEvent).where(AuditEvent.action == "login_failed")
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))


def _end_sessions(session: Session, user: User, now: datetime) -> None:
    rows = session.exec(
        select(UserSession).where(
            UserSession.user_id == user.id, col(UserSession.ended_at).is_(None)
        )
    )
    for row in rows:
        row.ended_at = now
        session.add(row)


def _not_self(actor: User | None, user: User) -> None:
    # The platform must keep an admin: one cannot lock oneself out (another admin can).
    if actor is not None and actor.id == user.id:
        raise Conflict(msg("不能停用自己的账号或更改自己的角色"))


def _changed(
    session: Session, actor: User | None, user: User, action: str, now: datetime, **data: object
) -> None:
    session.add(user)
    _end_sessions(session, user, now)
    audit.record(
        session, actor=actor, action=action, entity="user", entity_id=user.username, at=now, **data
    )


def set_active(
    *, session: Session, actor: User | None, user_id: int, active: bool, now: datetime
) -> User:
    """Deactivate (every session ends, tokens stop working) or reactivate an account."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    if not active:
        _not_self(actor, user)
    with write(session, user):
        user.active = active
        _changed(session, actor, user, "user_activated" if active else "user_deactivated", now)
    return user


def reset_password(
    *, session: Session, actor: User | None, user_id: int, password: str, now: datetime
) -> User:
    user = get_user(session=session, actor=actor, user_id=user_id)
    errors = FieldErrors()
    errors.take("password", check_policy, password, username=user.username)
    errors.check()
    with write(session, user):
        user.password_hash = hash_password(password, username=user.username)
        _changed(session, actor, user, "password_reset", now)
    return user


def change_role(
    *,
    session: Session,
    actor: User | None,
    user_id: int,
    role: Role | str,
    now: datetime,
    testing_body_id: int | None = None,
    merchant_id: int | None = None,
    errors: FieldErrors | None = None,
) -> User:
    """A new role (with its testing body or shop); the user signs in again under it."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    role = Role(role)
    errors = errors or FieldErrors()
    _check_staff_links(role, merchant_id, testing_body_id, errors)
    errors.check()
    if role != user.role:
        _not_self(actor, user)
    before = (str(user.role), user.testing_body_id, user.merchant_id)
    with write(session, user):
        user.role = role
        user.testing_body_id = testing_body_id if role in LAB else None
        user.merchant_id = merchant_id if role == Role.MERCHANT else None
        _changed(
            session,
            actor,
            user,
            "user_role_changed",
            now,
            before={"role": before[0], "testing_body_id": before[1], "merchant_id": before[2]},
            role=role.value,
            testing_body_id=user.testing_body_id,
            merchant_id=user.merchant_id,
        )
    return user


def provision_second_factor(
    *, session: Session, actor: User | None, user_id: int, secret: str, now: datetime
) -> User:
    """Enrol a secret handed out another way (the demo accounts' printed otpauth URIs, a
    hardware token's seed): confirmed at once, no recovery codes."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    with write(session, user):
        user.totp_secret, user.totp_confirmed_at, user.totp_last_step = secret, now, None
        _replace_recovery_codes(session, user, [])
        _changed(session, actor, user, "second_factor_provisioned", now)
    return user


def reset_second_factor(
    *, session: Session, actor: User | None, user_id: int, now: datetime
) -> User:
    """A lost phone: the secret and recovery codes go; the next login enrols a new one."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    with write(session, user):
        user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
        _replace_recovery_codes(session, user, [])
        _changed(session, actor, user, "second_factor_reset", now)
    return user


def revoke_token(*, session: Session, actor: User | None, token_id: int, now: datetime) -> ApiToken:
    _admin(actor)
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(msg("没有此令牌"))
    with write(session, row):
        if row.revoked_at is not None:
            raise Conflict(msg("令牌已吊销"))
        row.revoked_at = now
        session.add(row)
        owner = session.get(User, row.user_id)
        audit.record(
            session,
            actor=actor,
            action="token_revoked",
            entity="user",
            entity_id=owner.username if owner else "?",
            at=now,
            token_id=row.id,
            name=row.name,
        )
    return row


def own_tokens(*, session: Session, user: User) -> list[ApiToken]:
    """A user's own tokens, newest first (their token page)."""
    return _tokens(session, user.id)
