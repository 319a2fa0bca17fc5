"""Users, logins and tokens. Sessions live on the server: logout ends them for every copy."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from qc_app import audit
from qc_app.auth.models import ApiToken, User, UserSession
from qc_app.auth.passwords import hash_password, verify_password
from qc_app.authz import Role
from qc_app.db import write
from qc_app.errors import Conflict, Unauthorized, ValidationFailed
from qc_app.i18n import msg


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
) -> User:
    role = Role(role)
    if role == Role.MERCHANT and merchant_id is None:
        raise ValidationFailed(msg("商家账号必须关联商家"))
    if role in (Role.ANALYST, Role.REVIEWER) and testing_body_id is None:
        raise ValidationFailed(msg("检测人员必须属于检测机构"))
    with write(session):
        if session.exec(select(User).where(User.username == username)).first():
            raise Conflict(msg("用户名已存在：{username}", username=username))
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
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


def login(*, session: Session, username: str, password: str, now: datetime) -> tuple[User, str]:
    """Check the password and open a new server-side session; returns the cookie token."""
    user = session.exec(select(User).where(User.username == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    with write(session):
        if not ok or user is None or not user.active:
            audit.record(
                session,
                actor=None,
                action="login_failed",
                entity="user",
                entity_id=username[:64],
                at=now,
            )
            raise Unauthorized(msg("用户名或密码错误"))
        token = secrets.token_urlsafe(32)
        session.add(
            UserSession(
                id_hash=_digest(token), user_id=user.id or 0, created_at=now, last_seen_at=now
            )
        )
        audit.record(
            session, actor=user, action="login", entity="user", entity_id=user.username, at=now
        )
    return user, token


def user_for_session(
    *, session: Session, token: str, now: datetime, idle: timedelta, absolute: timedelta
) -> User | None:
    row = session.get(UserSession, _digest(token))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
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


def create_token(*, session: Session, username: str, now: datetime) -> str:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise ValidationFailed(msg("没有用户 {username}", username=username))
    token = "qct_" + secrets.token_urlsafe(32)
    with write(session):
        session.add(ApiToken(token_hash=_digest(token), user_id=user.id or 0, created_at=now))
        audit.record(
            session,
            actor=user,
            action="token_created",
            entity="user",
            entity_id=user.username,
            at=now,
        )
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None
