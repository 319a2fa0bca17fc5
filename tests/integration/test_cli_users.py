"""`flask qc users create`: accounts from the command line, lab staff tied to their lab."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from qc_app import audit
from qc_app.auth.models import ApiToken, User
from qc_app.auth.passwords import verify_password
from tests.conftest import World

STRONG = "a-long-enough-password"


def run(app: Any, *args: str) -> Any:
    # The `flask` command pushes an app context for every command; the test runner does not.
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", "users", "create", *args])


def test_an_analyst_is_created_in_their_testing_body(app: Any, world: World, db: Session) -> None:
    result = run(
        app,
        "analyst9",
        "--role",
        "analyst",
        "--name",
        "周检测",
        "--body",
        "GTC",
        "--password",
        STRONG,
    )
    assert result.exit_code == 0, result.output
    db.rollback()
    user = db.exec(select(User).where(User.username == "analyst9")).one()
    assert (user.role, user.testing_body_id, user.display_name) == (
        "analyst",
        world.lab.id,
        "周检测",
    )


def test_an_analyst_without_a_testing_body_is_refused(app: Any, world: World, db: Session) -> None:
    result = run(app, "analyst9", "--role", "analyst", "--name", "x", "--password", STRONG)
    assert result.exit_code != 0
    assert "testing body" in result.output
    db.rollback()
    assert db.exec(select(User).where(User.username == "analyst9")).first() is None


def test_an_unknown_testing_body_is_refused(app: Any, world: World) -> None:
    result = run(
        app, "analyst9", "--role", "analyst", "--name", "x", "--body", "NOPE", "--password", STRONG
    )
    assert result.exit_code != 0 and "NOPE" in result.output


def test_a_short_password_is_refused(app: Any, world: World) -> None:
    result = run(app, "inspector9", "--role", "inspector", "--name", "x", "--password", "short")
    assert result.exit_code != 0 and "12" in result.output


# -- the operator's account commands: each changes the row and is one audit event -----------


def users(app: Any, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["qc", "users", *args])


def account(db: Session, username: str) -> User:
    db.rollback()
    db.expire_all()  # the command committed through its own session
    return db.exec(select(User).where(User.username == username)).one()


def actions(db: Session, username: str) -> list[str]:
    return [e.action for e in audit.history(db, entity="user", entity_id=username)]


def test_the_list_names_role_second_factor_and_state(app: Any, world: World) -> None:
    listed = {line.split()[0]: line.split()[1:] for line in users(app, "list").output.splitlines()}
    assert listed["admin1"] == ["admin", "totp", "active"]
    assert listed["merchant1"] == ["merchant", "-", "active"]


def test_deactivate_then_activate(app: Any, world: World, db: Session) -> None:
    assert users(app, "deactivate", "inspector1").exit_code == 0
    assert account(db, "inspector1").active is False
    assert users(app, "activate", "inspector1").exit_code == 0
    assert account(db, "inspector1").active is True
    assert actions(db, "inspector1")[-2:] == ["user_deactivated", "user_activated"]


def test_an_unknown_user_is_refused_and_nothing_changes(
    app: Any, world: World, db: Session
) -> None:
    result = users(app, "deactivate", "nobody9")
    assert result.exit_code != 0 and "nobody9" not in [u.username for u in db.exec(select(User))]


def test_reset_password_keeps_the_policy(app: Any, world: World, db: Session) -> None:
    before = account(db, "merchant1").password_hash
    assert users(app, "reset-password", "merchant1", "--password", "short").exit_code != 0
    assert account(db, "merchant1").password_hash == before
    result = users(app, "reset-password", "merchant1", "--password", STRONG)
    assert result.exit_code == 0, result.output
    assert verify_password(account(db, "merchant1").password_hash, STRONG)


def test_set_role_moves_a_user_to_a_lab(app: Any, world: World, db: Session) -> None:
    refused = users(app, "set-role", "inspector1", "--role", "analyst", "--body", "NOPE")
    assert refused.exit_code != 0 and "NOPE" in refused.output
    assert account(db, "inspector1").role == "inspector"
    result = users(app, "set-role", "inspector1", "--role", "analyst", "--body", "GTC")
    assert result.exit_code == 0, result.output
    moved = account(db, "inspector1")
    assert (moved.role, moved.testing_body_id) == ("analyst", world.lab.id)


def test_reset_2fa_makes_the_user_enrol_again(app: Any, world: World, db: Session) -> None:
    assert account(db, "admin1").totp_confirmed_at is not None
    assert users(app, "reset-2fa", "admin1").exit_code == 0
    assert account(db, "admin1").totp_confirmed_at is None


def test_tokens_are_listed_and_revoked(app: Any, world: World, db: Session, token: Any) -> None:
    token("merchant1")
    db.commit()
    (line,) = users(app, "tokens", "merchant1").output.splitlines()
    assert line.endswith("live")
    token_id = line.split()[0]
    assert users(app, "revoke-token", token_id).exit_code == 0
    assert users(app, "tokens", "merchant1").output.splitlines()[0].endswith("revoked")
    assert db.get(ApiToken, int(token_id)).revoked_at is not None
    assert users(app, "revoke-token", "999999").exit_code != 0
