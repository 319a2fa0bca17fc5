"""A merchant edits its listing (issue 18): one transaction with its audit event, the title
check run again on save, refused in words where an edit is not allowed, only by the listing's
own merchant, and of two edits at once one wins and the other is a 409, never a 500."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session, select

from qc_app.audit import AuditEvent
from qc_app.listings.models import Listing
from tests.conftest import Flow, World
from tests.web.helpers import csrf, login
from tests.web.test_double_submit import at_once

ORIGIN_TITLE = "新疆和田玉足金戒指"  # 新疆: an origin the certificate cannot confirm


def patch(
    client: Any, token: Any, listing_id: int, body: dict[str, Any], user: str = "merchant1"
) -> Any:
    return client.patch(f"/api/v1/listings/{listing_id}", json=body, headers=token(user))


def stored(db: Session, listing_id: int) -> Listing:
    db.rollback()
    db.expire_all()  # the fixture's objects were read before the requests changed them
    return db.get_one(Listing, listing_id)


def test_an_edit_is_saved_audited_and_the_title_checked_again(
    client: Any, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    warned = patch(client, token, listing_id, {"title": ORIGIN_TITLE, "price_fen": 299000})
    assert warned.status_code == 200, warned.get_json()
    assert [w["kind"] for w in warned.get_json()["title_warnings"]] == ["origin"]
    fixed = patch(
        client, token, listing_id, {"title": "足金戒指", "version": warned.get_json()["version"]}
    )
    assert fixed.status_code == 200 and fixed.get_json()["title_warnings"] == []
    after = stored(db, listing_id)
    assert (after.title, after.price_fen) == ("足金戒指", 299000)
    edits = db.exec(select(AuditEvent).where(AuditEvent.action == "listing_edited")).all()
    assert [e.details()["after"] for e in edits] == [
        {"title": ORIGIN_TITLE, "price_fen": 299000},
        {"title": "足金戒指"},
    ]


def test_every_bad_field_is_named_and_nothing_is_saved(
    client: Any, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    answer = patch(
        client, token, listing_id, {"title": "", "material_code": "AU999X", "price_fen": 0}
    )
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"title", "material_code", "price_fen"}
    assert stored(db, listing_id).title == world.listing_gold.title


def test_the_material_cannot_change_once_a_certificate_was_issued(
    client: Any, db: Session, flow: Flow, token: Any, cjk_font_path: Any
) -> None:
    flow.certified()
    listing_id = flow.world.listing_gold.id or 0
    answer = patch(client, token, listing_id, {"material_code": "AU750"})
    assert answer.status_code == 422
    refusal = answer.get_json()["error"]["fields"]["material_code"]
    assert "不能再改材质" in refusal["message_zh"] and "new listing" in refusal["message"]
    assert stored(db, listing_id).material_code == "AU990"
    # The title and price may still change.
    assert patch(client, token, listing_id, {"title": "足金素圈"}).status_code == 200


def test_the_material_may_change_before_any_certificate(
    client: Any, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    assert patch(client, token, listing_id, {"material_code": "AU750"}).status_code == 200
    assert stored(db, listing_id).material_code == "AU750"


def test_only_the_listings_merchant_may_edit_it(
    client: Any, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    assert patch(client, token, listing_id, {"title": "x"}, user="merchant2").status_code == 404
    assert patch(client, token, listing_id, {"title": "x"}, user="inspector1").status_code == 403
    assert stored(db, listing_id).title == world.listing_gold.title


def test_an_edit_on_a_stale_version_is_a_409(
    client: Any, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    version = stored(db, listing_id).version
    assert patch(client, token, listing_id, {"title": "甲", "version": version}).status_code == 200
    stale = patch(client, token, listing_id, {"title": "乙", "version": version})
    assert stale.status_code == 409
    assert stored(db, listing_id).title == "甲"


def test_two_edits_at_once_one_wins_the_other_is_409(
    app: Flask, db: Session, world: World, token: Any
) -> None:
    listing_id = world.listing_gold.id or 0
    version = stored(db, listing_id).version
    headers = token("merchant1")
    db.commit()

    def edit(title: str) -> Any:
        return app.test_client().patch(
            f"/api/v1/listings/{listing_id}",
            json={"title": title, "version": version},
            headers=headers,
        )

    answers = at_once([lambda: edit("甲款"), lambda: edit("乙款")])
    codes = sorted(getattr(a, "status_code", a) for a in answers)
    assert codes == [200, 409], answers
    winner = next(a for a in answers if a.status_code == 200).get_json()["title"]
    assert stored(db, listing_id).title == winner
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "listing_edited")).all()) == 1


def test_the_page_keeps_what_was_typed_and_names_each_problem(
    app: Flask, db: Session, world: World
) -> None:
    client = app.test_client()
    login(client, "merchant1")
    listing_id = world.listing_gold.id or 0
    page_url = f"/m/listings/{listing_id}"
    answer = client.post(
        f"/m/listings/{listing_id}/edit",
        data={
            "csrf_token": csrf(client, page_url),
            "title": ORIGIN_TITLE,
            "brand": "金福",
            "material_code": "AU990",
            "price_yuan": "abc",
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert (
        'id="price_fen-error"' in page
        and f'value="{ORIGIN_TITLE}"' in page
        and 'value="abc"' in page
    )
    assert stored(db, listing_id).title == world.listing_gold.title


def test_the_page_saves_and_shows_the_title_warning(app: Flask, db: Session, world: World) -> None:
    client = app.test_client()
    login(client, "merchant1")
    listing_id = world.listing_gold.id or 0
    page_url = f"/m/listings/{listing_id}"
    answer = client.post(
        f"/m/listings/{listing_id}/edit",
        data={
            "csrf_token": csrf(client, page_url),
            "title": ORIGIN_TITLE,
            "brand": "",
            "style": "",
            "material_code": "AU990",
            "price_yuan": "3280.00",
        },
    )
    assert answer.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    assert 'data-testid="title-warnings"' in page and "新疆" in page
    assert stored(db, listing_id).title == ORIGIN_TITLE
