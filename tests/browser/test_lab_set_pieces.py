"""Set pieces walked at the lab terminal and on a phone (issue 19): a 足金镶翡翠吊坠, a 108-bead
和田玉手串 (count and bead diameter recorded) and an 18K金 ring with a graded diamond. Scanner
and keyboard only: Enter field to field, the preview names the piece and each component, Enter
records; then, certified, the consumer's page lists the components, the grading and the
proof photos."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlmodel import select

from qc_app.certificates.lookup import certificate_pdf
from qc_app.certificates.models import Certificate
from qc_app.inspection.models import Inspection
from tests.browser.steps import PHONE, SHOTS, enter_through, log_in, open_qr
from tests.browser.test_day_lab_review import confirm, scan
from tests.conftest import Flow, stored_files
from tests.piece_support import BEADS, PIECES, Piece, received

pytestmark = pytest.mark.usefixtures("cjk_font_path")


def shot(page: Page, piece: Piece, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"set-{piece.article_type}-{name}.png"), full_page=True)


def same(stored: Any, typed: str) -> bool:
    """A stored reading is what was typed (a decimal at its field's places: 1.66 is 1.660)."""
    try:
        return Decimal(str(stored)) == Decimal(typed)
    except InvalidOperation:
        return str(stored) == typed


@pytest.mark.parametrize("piece", PIECES, ids=[p.article_type for p in PIECES])
def test_a_set_piece_from_the_lab_form_to_the_phone(
    page: Page, live_server: str, flow: Flow, db: Any, piece: Piece
) -> None:
    item = received(flow, piece)
    log_in(page, live_server, "analyst1")
    scan(page, live_server, item.code)
    expect(page.locator("section.part")).to_have_count(len(piece.components) + 1)
    shot(page, piece, "1-form")
    enter_through(page, piece.typed)
    expect(page.locator("dd.named")).to_have_text(piece.named)
    expect(page.locator("dd.outcome")).to_have_text("合格")
    expect(page.locator(".card.part")).to_have_count(len(piece.components))
    shot(page, piece, "2-preview")
    confirm(page)

    db.rollback()
    found = db.exec(select(Inspection).where(Inspection.item_id == item.id)).one()
    assert (found.material_name_zh, found.verdict) == (piece.named, "pass")
    parts = found.parts or []
    assert [p["verdict"] for p in parts] == ["pass"] * len(piece.components)
    for name, value in piece.typed.items():
        if name.startswith("c") and "-" in name:
            index, key = name[1:].split("-", 1)
            assert same(parts[int(index) - 1]["measured"][key], value), (name, value)

    flow.approve(found)
    certificate = flow.certify(item)
    stored = db.exec(select(Certificate).where(Certificate.item_id == item.id)).one()
    # The certificate PDF, kept beside the screenshots (pdftoppm -r 60 -png to look at it).
    pdf = certificate_pdf(
        session=db,
        actor=flow.world["inspector1"],
        number=stored.number,
        files=stored_files(flow.app),
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert piece.named in text.replace("\n", "")
    (SHOTS / f"set-{piece.article_type}-certificate.pdf").write_bytes(pdf)
    open_qr(page, live_server, certificate.verify_url)
    expect(page.locator("#components tr")).to_have_count(len(piece.components) + 1)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    shot(page, piece, "3-phone")


def test_enter_without_script_previews_and_never_adds_a_bead_group(
    page: Page, browser: Any, live_server: str, flow: Flow
) -> None:
    """The bead string's form has an 添加一组 button before the preview button: the form's
    default (a hidden first button) still makes Enter preview when scripts are off."""
    item = received(flow, BEADS)
    log_in(page, live_server, "analyst1")  # then the same session, in a browser without script
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(page.context.cookies())
    page = context.new_page()
    try:
        page.goto(f"{live_server}/lab/{item.code}")
        for name, value in BEADS.typed.items():
            field = page.locator(f'[name="{name}"]')
            if field.evaluate("f => f.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        page.locator('[name="mass_g"]').press("Enter")
        expect(page.locator("dd.named")).to_be_visible()  # the preview, not the form again
        expect(page.locator("input[name$='-beads-1-count']")).to_have_count(0)
    finally:
        context.close()
