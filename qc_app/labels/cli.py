"""`flask --app qc_app qc labels CODE`: print labels from a terminal (e.g. straight to a Zebra)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import select

from qc_app.auth.models import User
from qc_app.cli import fail
from qc_app.db import request_session
from qc_app.errors import DomainError


@click.command("labels")
@click.argument("code")
@click.option("--as", "username", required=True, help="whose view: the merchant or staff user")
@click.option("--size", default="60x40", show_default=True, help="60x40, 50x30 or a4 (PDF only)")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "zpl"]), default="pdf", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="file (default: stdout)")
@with_appcontext
def labels(code: str, username: str, size: str, fmt: str, output: str | None) -> None:
    """Labels of an item (QC…) or of every item in a consignment (SJ…), as PDF or ZPL."""
    from qc_app.certificates.fonts import find_cjk_font
    from qc_app.labels import pdf, services, zpl

    session = request_session()
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise click.ClickException(f"no active user {username}")
    try:
        checked = services.check_size(size, sheet=fmt == "pdf")
        if code.upper().startswith("SJ"):
            found = services.consignment_labels(session=session, actor=user, code=code)
        else:
            found = [services.item_label(session=session, actor=user, code=code)]
    except DomainError as exc:
        fail(exc)
    if fmt == "zpl":
        data = zpl.labels_zpl(found, checked)
    else:
        data = pdf.labels_pdf(found, checked, find_cjk_font(current_app.config["QC"].CJK_FONT))
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"{len(found)} label(s) → {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
