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


@qc.group("users")
def users_group() -> None:
    """Staff and merchant accounts."""


@users_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["merchant", "inspector", "analyst", "reviewer", "admin"]),
)
@click.option(
    "--name", "display_name", required=True, help="the name shown on pages and certificates"
)
@click.option(
    "--body", "body_code", help="testing body code (analysts and reviewers belong to one)"
)
@click.option("--merchant-id", type=int, help="the shop of a merchant account")
@click.password_option(help="at least 12 characters; asked twice when not given")
def users_create(
    username: str,
    role: str,
    display_name: str,
    body_code: str | None,
    merchant_id: int | None,
    password: str,
) -> None:
    """Create an account; lab staff are tied to their testing body."""
    from sqlmodel import select

    from qc_app.auth.services import create_user
    from qc_app.inspection.models import TestingBody

    session = request_session()
    body_id = None
    if body_code:
        body = session.exec(select(TestingBody).where(TestingBody.code == body_code)).first()
        if body is None:
            raise click.ClickException(f"no testing body {body_code}")
        body_id = body.id
    try:
        user = create_user(
            session=session,
            actor=None,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            merchant_id=merchant_id,
            testing_body_id=body_id,
            now=utcnow(),
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.username} ({user.role})")


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


CHECKPOINTS = "audit-checkpoints.jsonl"


@audit_group.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False), help=f"default: instance/{CHECKPOINTS}")
def audit_checkpoint(out: str | None) -> None:
    """Sign the chain's head and append it to the checkpoint file (copy it off this machine)."""
    from pathlib import Path

    from qc_app.audit import make_checkpoint
    from qc_app.certificates.services import signer_for

    session = request_session()
    signer = signer_for(session, current_app.config["QC"].KEY_PASSPHRASE)
    checkpoint = make_checkpoint(session, kid=signer.kid, sign=signer.sign, now=utcnow())
    path = Path(out or current_app.config["QC"].INSTANCE_PATH / CHECKPOINTS)
    with path.open("a", encoding="utf-8") as file:
        file.write(checkpoint.to_json() + "\n")
    click.echo(f"checkpoint {checkpoint.seq} {checkpoint.hash} -> {path}")


@audit_group.command("verify")
@click.option("--checkpoints", type=click.Path(exists=True, dir_okay=False))
def audit_verify(checkpoints: str | None) -> None:
    """Recompute the chain; exit 1 at the first altered, missing or inserted event.

    With --checkpoints, also exit 1 when the newest events were cut off or rewritten.
    """
    from pathlib import Path

    from qc_app.audit import Checkpoint, verify_chain
    from qc_app.certificates.services import verifier
    from qc_app.certificates.signing import SignatureInvalid, UnknownKey

    session = request_session()
    signed = []
    if checkpoints:
        keys = verifier(session)
        for number, line in enumerate(Path(checkpoints).read_text().splitlines(), 1):
            if not line.strip():
                continue
            checkpoint = Checkpoint.from_json(line)
            try:
                keys.verify(
                    checkpoint.signed_bytes(), checkpoint.signature, checkpoint.kid, at=None
                )
            except (SignatureInvalid, UnknownKey) as exc:
                raise click.ClickException(
                    f"checkpoint on line {number} is not genuine: {exc}"
                ) from exc
            signed.append(checkpoint)
    report = verify_chain(session, signed)
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event {report.broken_at}: {report.problem}"
        )
    click.echo(
        f"audit chain intact: {report.events} events, head {report.head}"
        + (f", {len(signed)} signed checkpoints agree" if signed else "")
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(qc)
