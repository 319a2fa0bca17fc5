"""`flask --app qc_app qc ...`: thin wrappers over the services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app

from qc_app.auth.models import User
from qc_app.authz import Role
from qc_app.config import ConfigError
from qc_app.db import engine_of, request_session
from qc_app.errors import DomainError
from qc_app.sqltypes import utcnow
from qc_app.web import files

qc = click.Group("qc", help="qc_app administration")


def fail(exc: DomainError) -> NoReturn:
    raise click.ClickException(f"{exc.message.render('zh')} / {exc.message.render('en')}") from exc


def passphrase() -> str:
    """The key passphrase: the commands that sign are the issuance tier, and say so without it."""
    try:
        return current_app.config["QC"].signing_passphrase()  # type: ignore[no-any-return]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@qc.command("worker")
@click.option("--workers", default=1, show_default=True, help="threads taking tasks")
def worker(workers: int) -> None:
    """Run queued tasks (batch and single issuance, periodic resumption) until SIGTERM/SIGINT.
    The issuance tier: needs QC_KEY_PASSPHRASE, and says so at once without it."""
    from qc_app.queue import run_worker

    passphrase()
    run_worker(current_app._get_current_object(), threads=workers)  # type: ignore[attr-defined]


@qc.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (creates the database if needed)."""
    from qc_app.migrate import upgrade

    upgrade(engine_of(current_app), check_code_key=current_app.config["QC"].CHECK_CODE_KEY)
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
    from qc_app.certificates.keys import ensure_signing_key

    key = ensure_signing_key(
        session=request_session(),
        passphrase=passphrase(),
        now=utcnow(),
    )
    click.echo(f"signing key {key.kid}")


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Retire the current Ed25519 key and start a new one (old certificates keep verifying)."""
    from qc_app.certificates.keys import rotate_signing_key

    key = rotate_signing_key(
        session=request_session(),
        actor=None,
        passphrase=passphrase(),
        now=utcnow(),
    )
    click.echo(f"new signing key {key.kid}")


@keys_group.command("list")
def keys_list() -> None:
    """Every signing key with its validity window."""
    from qc_app.certificates.keys import all_keys

    for key in all_keys(request_session()):
        until = key.not_after.isoformat() if key.not_after else "current"
        click.echo(f"{key.kid}  {key.not_before.isoformat()} .. {until}")


@qc.group("ca")
def ca_group() -> None:
    """The platform CA and the testing bodies' PDF-signing certificates."""


@ca_group.command("init")
def ca_init() -> None:
    """Create the platform CA and a signing certificate for every testing body, if absent."""
    from qc_app.certificates.ca import ensure_pdf_signing

    for row in ensure_pdf_signing(
        session=request_session(),
        passphrase=passphrase(),
        now=utcnow(),
    ):
        if row.retired_at is None:
            click.echo(f"{row.kind:4} {row.body_code or '-':8} serial {row.serial}")


@ca_group.command("issue-body")
@click.argument("body_code")
def ca_issue_body(body_code: str) -> None:
    """Issue a new PDF-signing certificate for BODY_CODE (retires its previous one)."""
    from qc_app.certificates.ca import issue_body_credential

    try:
        row = issue_body_credential(
            session=request_session(),
            actor=None,
            passphrase=passphrase(),
            body_code=body_code,
            now=utcnow(),
        )
    except DomainError as exc:
        fail(exc)
    click.echo(f"{row.body_code}: serial {row.serial}, valid until {row.not_after.date()}")


@ca_group.command("list")
def ca_list() -> None:
    """The CA and body certificates, current and retired."""
    from qc_app.certificates.ca import pdf_credentials

    for row in pdf_credentials(request_session()):
        state = f"retired {row.retired_at:%Y-%m-%d}" if row.retired_at else "current"
        click.echo(
            f"{row.kind:4} {row.body_code or '-':8} serial {row.serial}  "
            f"{row.not_before:%Y-%m-%d} .. {row.not_after:%Y-%m-%d}  {state}  {row.subject}"
        )


@ca_group.command("export")
def ca_export() -> None:
    """Print the platform CA certificate (PEM), e.g. for `verify-certificate --ca`."""
    from qc_app.certificates.ca import platform_ca

    ca = platform_ca(request_session())
    if ca is None:
        raise click.ClickException("no platform CA yet: run `flask --app qc_app qc ca init`")
    click.echo(ca.certificate_pem, nl=False)


@qc.group("certificates")
def certificates_group() -> None:
    """Certificate issuance and housekeeping."""


@certificates_group.command("issue-batch")
@click.option("--as", "username", required=True, help="the inspector issuing")
@click.option("--resume", "resume_id", type=int, help="continue this (interrupted) batch")
@click.argument("codes", nargs=-1)
def certificates_issue_batch(username: str, resume_id: int | None, codes: tuple[str, ...]) -> None:
    """Issue certificates for CODES (default: every approved item, as many as one batch
    takes, like the batch page), with a progress line. --resume continues a batch that was
    interrupted (its process killed, its page closed) where it stands."""
    import time

    from sqlmodel import select

    from qc_app.auth.models import User
    from qc_app.certificates.batches import BATCH_LIMIT, get_batch, run_batch_step, start_batch
    from qc_app.certificates.issuance import IssuingSetup
    from qc_app.items.services import items_in
    from qc_app.items.workflow import ItemState

    session = request_session()
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"no user {username}")
    try:
        if resume_id is not None:
            batch = get_batch(session=session, actor=user, batch_id=resume_id)
        else:
            wanted = list(codes) or [
                item.code
                for item in items_in(
                    session=session, states=[ItemState.APPROVED], limit=BATCH_LIMIT
                )
            ]
            batch = start_batch(session=session, actor=user, codes=wanted, now=utcnow())
        setup = IssuingSetup.from_config(current_app.config["QC"], files())
        while True:
            status = run_batch_step(
                session=session, actor=user, batch_id=batch.id or 0, setup=setup, now=utcnow()
            )
            done = len(status.issued) + len(status.failures)
            click.echo(
                f"\rbatch {status.batch_id}: {done}/{status.total} "
                f"(issued {len(status.issued)}, failed {len(status.failures)})"
                + (" waiting: another step is issuing" if status.busy else ""),
                nl=False,
            )
            if status.finished:
                break
            if status.busy:
                time.sleep(1)
    except DomainError as exc:
        fail(exc)
    click.echo()
    for code, reason in status.failures.items():
        click.echo(f"  {code}: {reason}")


@qc.group("storage")
def storage_group() -> None:
    """The stored files (QC_STORAGE_URL)."""


@storage_group.command("sweep")
@click.option("--grace-minutes", default=10, show_default=True, type=click.IntRange(min=1))
def storage_sweep(grace_minutes: int) -> None:
    """Delete stored PDFs, photos and evidence no row refers to (left by a crash or a refused
    request), once older than the grace period."""
    from datetime import timedelta

    from qc_app.orphans import sweep_orphans

    removed = sweep_orphans(
        session=request_session(),
        files=files(),
        now=utcnow(),
        grace=timedelta(minutes=grace_minutes),
    )
    for key in removed:
        click.echo(f"removed {key}")
    click.echo(f"removed {len(removed)} unreferenced file(s)")


@qc.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Copy the database (while it serves) and every stored file into FOLDER (new or empty),
    with a manifest of SHA-256 digests. Secrets are not copied: keep instance/secrets.env apart."""
    from qc_app.ops.backup import BackupError, backup

    try:
        manifest = backup(engine=engine_of(current_app), files=files(), folder=folder, now=utcnow())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(manifest.rows.values())
    click.echo(f"backed up {rows} rows and {len(manifest.files)} files into {folder}")


@qc.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup into this instance's database, which must be empty (a new instance
    with the same QC_KEY_PASSPHRASE and QC_CHECK_CODE_KEY), and its store."""
    from qc_app.ops.backup import BackupError, restore

    try:
        manifest = restore(engine=engine_of(current_app), files=files(), folder=folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored {sum(manifest.rows.values())} rows and {len(manifest.files)} files "
        f"from the backup of {manifest.created_at}"
    )


@qc.group("users")
def users_group() -> None:
    """Staff and merchant accounts."""


@users_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
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
    from qc_app.auth.services import create_user

    body_id = _body_id(body_code)
    try:
        user = create_user(
            session=request_session(),
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
        fail(exc)
    click.echo(f"created {user.username} ({user.role})")


def _body_id(body_code: str | None) -> int | None:
    """The id of the testing body with this code (analysts and reviewers belong to one)."""
    from sqlmodel import select

    from qc_app.inspection.models import TestingBody

    if not body_code:
        return None
    query = select(TestingBody).where(TestingBody.code == body_code)
    body = request_session().exec(query).first()
    if body is None:
        raise click.ClickException(f"no testing body {body_code}")
    return body.id


@users_group.command("list")
def users_list() -> None:
    """Every account: user name, role, second factor, active or not."""
    from qc_app.auth.services import list_users

    for user in list_users(session=request_session(), actor=None):
        factor = "totp" if user.totp_confirmed_at else "-"
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username:20} {user.role:10} {factor:5} {state}")


def _user_id(username: str) -> int:
    from qc_app.auth.services import user_by_name

    try:
        return user_by_name(session=request_session(), actor=None, username=username).id or 0
    except DomainError as exc:
        fail(exc)


@users_group.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """End every session of USERNAME and refuse their logins and tokens."""
    from qc_app.auth.services import set_active

    _account_change(set_active, username, active=False)


@users_group.command("activate")
@click.argument("username")
def users_activate(username: str) -> None:
    """Let a deactivated USERNAME log in again."""
    from qc_app.auth.services import set_active

    _account_change(set_active, username, active=True)


@users_group.command("reset-password")
@click.argument("username")
@click.password_option(help="at least 12 characters; asked twice when not given")
def users_reset_password(username: str, password: str) -> None:
    """A new password for USERNAME; their sessions end."""
    from qc_app.auth.services import reset_password

    _account_change(reset_password, username, password=password)


@users_group.command("set-role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--body", "body_code", help="testing body code (analysts and reviewers)")
@click.option("--merchant-id", type=int, help="the shop of a merchant account")
def users_set_role(
    username: str, role: str, body_code: str | None, merchant_id: int | None
) -> None:
    """A new role (with its testing body or shop) for USERNAME; their sessions end."""
    from qc_app.auth.services import change_role

    _account_change(
        change_role,
        username,
        role=role,
        testing_body_id=_body_id(body_code),
        merchant_id=merchant_id,
    )


@users_group.command("reset-2fa")
@click.argument("username")
def users_reset_second_factor(username: str) -> None:
    """A lost phone: USERNAME enrols a new authenticator at their next login."""
    from qc_app.auth.services import reset_second_factor

    _account_change(reset_second_factor, username)


@users_group.command("tokens")
@click.argument("username")
def users_tokens(username: str) -> None:
    """USERNAME's API tokens: id, name, created, last used, expiry, state."""
    from qc_app.auth.services import tokens_of

    now = utcnow()
    for row in tokens_of(session=request_session(), actor=None, user_id=_user_id(username)):
        used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "never"
        state = "revoked" if row.revoked_at else ("expired" if row.expires_at <= now else "live")
        click.echo(
            f"{row.id:6} {row.name:24} created {row.created_at.isoformat(timespec='minutes')}"
            f"  used {used}  expires {row.expires_at.date()}  {state}"
        )


@users_group.command("revoke-token")
@click.argument("token_id", type=int)
def users_revoke_token(token_id: int) -> None:
    """Revoke the API token TOKEN_ID (from `users tokens`)."""
    from qc_app.auth.services import revoke_token

    try:
        row = revoke_token(session=request_session(), actor=None, token_id=token_id, now=utcnow())
    except DomainError as exc:
        fail(exc)
    click.echo(f"revoked token {row.id} ({row.name})")


def _account_change(service: Callable[..., User], username: str, **changes: object) -> None:
    """Run one account service as the operator at the CLI (its own audit event)."""
    user_id = _user_id(username)
    try:
        user = service(
            session=request_session(), actor=None, user_id=user_id, now=utcnow(), **changes
        )
    except DomainError as exc:
        fail(exc)
    click.echo(f"{user.username}: {service.__name__.replace('_', ' ')} done")


@qc.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="token", show_default=True, help="what the token is for")
@click.option("--days", type=click.IntRange(1, 365), default=90, show_default=True)
@click.option("--code", default="", help="USERNAME's second-factor code (asked for staff)")
def token_create(username: str, name: str, days: int, code: str) -> None:
    """Print a new bearer token for USERNAME (shown once); staff give their TOTP code."""
    from datetime import timedelta

    from qc_app.auth.services import create_token, needs_second_factor, user_by_name

    session = request_session()
    try:
        user = user_by_name(session=session, actor=None, username=username)
        if needs_second_factor(user) and not code:
            code = click.prompt(f"second-factor code of {username}")
        _row, token = create_token(
            session=session,
            username=username,
            name=name,
            lifetime=timedelta(days=days),
            code=code,
            now=utcnow(),
        )
    except DomainError as exc:
        fail(exc)
    click.echo(token)


@qc.command("totp-code")
@click.argument("username")
def totp_code(username: str) -> None:
    """Demo accounts only: the current second-factor code of USERNAME."""
    from qc_app.demo import demo_totp_code

    try:
        click.echo(demo_totp_code(session=request_session(), username=username, now=utcnow()))
    except DomainError as exc:
        fail(exc)


DEMO_URLS = "demo-urls.txt"


@qc.command("demo")
def demo() -> None:
    """Load the demo data into an empty database; print the demo URLs every time (scripts/serve
    runs this on each start). The check codes exist only when issued, so the URLs are kept in
    the instance folder."""
    from qc_app.auth.passwords import DEMO_PASSWORD
    from qc_app.demo import load_demo

    config = current_app.config["QC"]
    urls = config.INSTANCE_PATH / DEMO_URLS
    created = load_demo(session=request_session(), config=config, files=files())
    if created:
        click.echo(f"demo accounts (password: {DEMO_PASSWORD}): " + ", ".join(created.users))
        click.echo(
            "staff log in with a second factor: `flask --app qc_app qc totp-code USERNAME` prints"
            " the current code, or add these to an authenticator app:"
        )
        for line in created.authenticators:
            click.echo(f"  {line}")
        lines = [
            f"staff login:      {config.BASE_URL}/login",
            f"merchant portal:  {config.BASE_URL}/m/listings  (merchant1)",
            *(f"consumer page of a demo certificate, {line}" for line in created.certificates),
        ]
        urls.write_text("\n".join(lines) + "\n", encoding="utf-8")
        urls.chmod(0o600)  # the demo certificates' check codes
    elif not urls.exists():
        click.echo("demo data already present")
        return
    click.echo(urls.read_text(encoding="utf-8"), nl=False)


@qc.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False), help="also append it to this file")
def audit_checkpoint(out: str | None) -> None:
    """Chain what is queued, sign the chain's head and store it (kind `checkpoints`, one object
    per chain position; keep the store, or a copy, off this machine). The worker does this
    every hour and as it stops."""
    from pathlib import Path

    from qc_app.ops import checkpoints

    written = checkpoints.write(
        session=request_session(), files=files(), passphrase=passphrase(), now=utcnow()
    )
    checkpoint = written.checkpoint
    if written.stored:
        click.echo(f"checkpoint {checkpoint.seq} {checkpoint.hash} -> {written.key}")
    else:
        click.echo(f"checkpoint {checkpoint.seq} already stored: no event since")
    if out:
        with Path(out).open("a", encoding="utf-8") as file:
            file.write(checkpoint.to_json() + "\n")


@audit_group.command("sequence")
def audit_sequence() -> None:
    """Chain the events committed since the last run (the worker also runs this periodically)."""
    from qc_app.audit import sequence

    chained = sequence(request_session())
    click.echo(f"{chained} events chained")


@audit_group.command("verify")
@click.option(
    "--checkpoints",
    type=click.Path(exists=True, dir_okay=False),
    help="read the checkpoints from this file (a copy kept elsewhere) instead of the store",
)
@click.option(
    "--full",
    is_flag=True,
    help="recompute every event from the first, not only those after the latest checkpoint",
)
def audit_verify(checkpoints: str | None, full: bool) -> None:
    """Chain what is queued, then check the chain against the signed checkpoints: from the
    latest one on (its link must still hold the signed hash), or every event with --full.
    Exit 1 at the first altered, missing or inserted event, at an event that was never
    chained, or when the newest events were cut off or rewritten."""
    from pathlib import Path

    from qc_app.audit import sequence, verify_chain
    from qc_app.ops import checkpoints as stored_checkpoints

    session = request_session()
    if checkpoints:
        text = Path(checkpoints).read_text()
        lines = [(f"line {n}", line) for n, line in enumerate(text.splitlines(), 1)]
    else:
        lines = stored_checkpoints.stored(files())
    try:
        signed = stored_checkpoints.signed(session, lines)
    except stored_checkpoints.CheckpointForged as exc:
        raise click.ClickException(str(exc)) from exc
    sequence(session)
    since = None if full or not signed else max(signed, key=lambda c: c.seq)
    report = verify_chain(session, signed, since=since)
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event {report.broken_at}: {report.problem}"
        )
    checked = report.events - (since.seq if since else 0)
    click.echo(
        f"audit chain intact: {report.events} events, head {report.head}"
        + (f", {len(signed)} signed checkpoints agree" if signed else "")
        + (f"; {checked} events after checkpoint {since.seq} recomputed" if since else "")
        + (f"; {report.pending} events since are not chained yet" if report.pending else "")
    )


def init_app(app: Flask) -> None:
    from qc_app.labels.cli import labels

    qc.add_command(labels)
    app.cli.add_command(qc)
