"""`flask qc users create`: accounts from the command line, lab staff tied to their lab."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from qc_app.auth.models import User
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
