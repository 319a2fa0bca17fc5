"""`flask --app qc_app qc ...`: thin wrappers over the services."""

from __future__ import annotations

import click
from flask import Flask, current_app

from qc_app.db import engine_of, request_session
from qc_app.errors import DomainError
from qc_app.sqltypes import utcnow

qc = click.Group("qc", help="qc_app administration")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(f"{exc.message_zh} / {exc.message_en}")


@qc.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (creates the database if needed)."""
    from qc_app.migrate import upgrade

    upgrade(engine_of(current_app))
    click.echo("database at the newest revision")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    from qc_app.migrate import revision

    revision(engine_of(current_app), message)


@qc.group("keys")
def keys_group() -> None:
    """Certificate signing keys."""


@keys_group.command("init")
def keys_init() -> None:
    """Create the Ed25519 signing key if there is none."""
    from qc_app.certificates.services import ensure_signing_key

    key = ensure_signing_key(
        session=request_session(), passphrase=current_app.config["QC"].KEY_PASSPHRASE, now=utcnow()
    )
    click.echo(f"signing key {key.kid}")


@qc.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@click.argument("username")
def token_create(username: str) -> None:
    """Print a new bearer token for USERNAME (shown once)."""
    from qc_app.auth.services import create_token

    try:
        click.echo(create_token(session=request_session(), username=username, now=utcnow()))
    except DomainError as exc:
        _fail(exc)


@qc.command("demo")
def demo() -> None:
    """Load the demo data into an empty database."""
    from qc_app.demo import DEMO_PASSWORD, load_demo

    created = load_demo(session=request_session(), config=current_app.config["QC"])
    if not created:
        click.echo("demo data already present")
        return
    click.echo(f"demo accounts (password: {DEMO_PASSWORD}): " + ", ".join(created.users))
    if created.verify_url:
        click.echo(f"demo certificate: {created.verify_url}")


@qc.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the chain; exit 1 at the first altered, missing or inserted event."""
    from qc_app.audit import verify_chain

    report = verify_chain(request_session())
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event {report.broken_at}: {report.problem}"
        )
    click.echo(f"audit chain intact: {report.events} events, head {report.head}")


def init_app(app: Flask) -> None:
    from qc_app.labels.cli import labels

    qc.add_command(labels)
    app.cli.add_command(qc)
