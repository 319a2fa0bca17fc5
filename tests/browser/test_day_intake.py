"""An inspector's intake day (issue 18), scanner and keyboard only at a terminal without a
camera: the consignment of 5 is scanned, each item's label scanned, the balance's reading typed
and Enter pressed; the photos go through the file inputs (front, back, stamp), and for one
item that cannot be photographed the reason is recorded instead. What was stored is checked:
5 items received, 12 photos, the reason, one receive event each and the closing event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from qc_app.audit import AuditEvent
from qc_app.intake.services import consignment_items, create_consignment
from qc_app.items.models import Item, Photo
from qc_app.items.workflow import ItemState
from qc_app.sqltypes import utcnow
from tests.browser.steps import log_in, shoot
from tests.conftest import Flow, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cjk_font_path")]
NO_CAMERA = "navigator.mediaDevices.getUserMedia = () => Promise.reject(new Error('no camera'));"
VIEWS = {"photo": (200, 160, 60), "photo_back": (120, 90, 40), "photo_stamp": (90, 90, 160)}


def scan(page: Page, code: str) -> None:
    expect(page.locator("html")).to_have_attribute("data-ready", "1")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def events(db: Any, action: str) -> int:
    return int(db.exec(select(func.count()).where(AuditEvent.action == action)).one())


def test_an_inspector_receives_a_consignment_of_five(
    page: Page, live_server: str, flow: Flow, db: Any, tmp_path: Path
) -> None:
    gold = flow.world.listing_gold.id
    declared = create_consignment(
        session=flow.db,
        actor=flow.world["merchant1"],
        items=[{"listing_id": gold, "mass_g": f"5.0{n}"} for n in range(5)],
        now=utcnow(),
    )
    codes = [i.code for i in consignment_items(session=db, consignment=declared)]
    files = {}
    for field, colour in VIEWS.items():
        files[field] = tmp_path / f"{field}.jpg"
        files[field].write_bytes(jpeg_bytes(colour=colour))
    page.add_init_script(NO_CAMERA)
    log_in(page, live_server, "inspector1")
    page.goto(f"{live_server}/intake")
    expect(page.locator("#code")).to_be_focused()
    scan(page, declared.code)
    expect(page.locator("h1")).to_contain_text(declared.code)
    shoot(page, "day-intake-1-consignment.png")

    for n, code in enumerate(codes):
        scan(page, code)
        expect(page.locator("#mass_g")).to_be_focused()
        if n < 4:
            for field, path in files.items():
                page.set_input_files(f"#{field}", str(path))  # the file dialog's choice
        else:
            # Sealed: the reason chosen from the keyboard, then back to the balance's field.
            page.locator("#no_photo_reason").focus()
            page.locator("#no_photo_reason").select_option("sealed_package")
            page.locator("#mass_g").focus()
        if n in (0, 4):
            shoot(page, f"day-intake-2-weigh-{n + 1}.png")
        page.keyboard.type(f"5.0{n}")
        page.keyboard.press("Enter")
        expect(page.locator(".flash")).to_contain_text(f"已收货 {code}")
        expect(page.locator("#item_code")).to_be_focused()
    expect(page.locator(".tally .ok b")).to_have_text("5")
    shoot(page, "day-intake-3-all-received.png")

    page.locator("form[action$='/close'] button").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("送检单收货完成，无缺失")
    shoot(page, "day-intake-4-closed.png")

    db.rollback()
    items = db.exec(select(Item).where(Item.consignment_id == declared.id)).all()
    assert {i.state for i in items} == {ItemState.RECEIVED}
    by_code = {i.code: i for i in items}
    assert [by_code[code].received_mass_cg for code in codes] == [500, 501, 502, 503, 504]
    photos = db.exec(select(Photo).where(Photo.kind == "intake")).all()
    assert len(photos) == 12
    for code in codes[:4]:
        views = sorted(p.view for p in photos if p.item_id == by_code[code].id)
        assert views == ["back", "front", "stamp"]
    assert by_code[codes[4]].no_photo == {"reason": "sealed_package", "note": ""}
    assert events(db, "receive") == 5 and events(db, "intake_closed") == 1
