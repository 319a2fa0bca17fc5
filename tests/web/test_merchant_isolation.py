"""Tenant isolation over the whole URL map: merchant1 asks for merchant2's objects (and random
ones) on every route that takes an id or code, and gets 404 every time. A new route with an
argument this test does not know fails it until someone says what the argument names."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

import pytest
from sqlmodel import select

from qc_app.certificates.batches import BATCH
from qc_app.certificates.tasks import ISSUE
from qc_app.intake.models import Consignment
from qc_app.items.models import Photo
from qc_app.jobs.services import create_job
from qc_app.sqltypes import utcnow
from tests.web.helpers import csrf, login

pytestmark = pytest.mark.usefixtures("cjk_font_path")
RANDOM = random.Random(6)


def random_code(prefix: str = "QC", n: int = 10) -> str:
    return prefix + "".join(RANDOM.choice(string.ascii_uppercase + string.digits) for _ in range(n))


@pytest.fixture
def theirs(db, flow, world) -> dict[str, list[Any]]:
    """merchant2's real identifiers per argument name, plus random and sequential ones."""
    item, issued = flow.certified(listing=world.listing_b, merchant="merchant2")
    consignment = db.get(Consignment, item.consignment_id)
    photo = db.exec(select(Photo).where(Photo.item_id == item.id)).first()
    number = issued.certificate.number
    job = create_job(
        session=db, actor=world["inspector1"], kind=ISSUE, params={"code": item.code},
        guard=BATCH, now=utcnow(),
    )  # fmt: skip
    return {
        "code": [item.code, consignment.code, number]
        + [random_code() for _ in range(3)]
        + [random_code("SJ", 8)],
        "listing_id": [world.listing_b.id, world.listing_b.id + 1, 10**6, RANDOM.randint(2, 10**9)],
        "number": [number, random_code("GTC", 12)],
        "digest": [photo.sha256, "0" * 64],
        "merchant_id": [world.merchant_b.id, world.merchant_a.id],
        "inspection_id": [1, 10**6],
        "body_id": [world.lab.id],
        "batch_id": [1, 10**6],
        "job_id": [job.id, uuid.uuid4().hex, "0" * 32],
        "order_no": ["DY-NOT-THERE"],
        "alarm_id": [1, 10**6],
        "evidence_id": [1, 10**6],
        "claim_number": [random_code("CL", 10)],
        "waybill_no": ["WB-NOT-THERE"],
        "user_id": [world["merchant2"].id, 10**6],
        "subscription_id": [1, 10**6],
        "delivery_id": [1, 10**6],
    }


def urls(rule: Any, values: dict[str, list[Any]]) -> list[str]:
    """Every combination for one-argument routes; photos pair the item with its digest."""
    args = sorted(rule.arguments)
    unknown = [a for a in args if a not in values]
    assert not unknown, f"{rule.rule}: classify argument(s) {unknown} in test_merchant_isolation"
    if args == ["code", "digest"]:
        return [rule.build({"code": values["code"][0], "digest": d})[1] for d in values["digest"]]
    if args == ["evidence_id", "number"]:
        return [
            rule.build({"number": n, "evidence_id": e})[1]
            for n in values["claim_number"]
            for e in values["evidence_id"]
        ]
    assert len(args) == 1, f"{rule.rule}: several arguments, extend urls()"
    return [rule.build({args[0]: v})[1] for v in values[args[0]]]


def object_routes(app: Any) -> list[Any]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.arguments
        and r.endpoint != "static"
        and not getattr(app.view_functions[r.endpoint], "qc_public", False)
    ]


def test_merchant_gets_404_for_every_other_merchants_object(app, theirs, token):
    web = app.test_client()
    login(web, "merchant1")
    form_token = csrf(web, "/m/listings")
    api = token("merchant1")
    checked = 0
    wrong: list[tuple[str, str, int]] = []
    for rule in object_routes(app):
        roles = app.view_functions[rule.endpoint].qc_roles
        expected = 404 if "merchant" in roles else 403
        is_api = rule.rule.startswith("/api/")
        for url in urls(rule, theirs):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if is_api:
                    response = web.open(url, method=method, headers=api, json={})
                    client_status = response.status_code
                else:
                    data = {"csrf_token": form_token} if method == "POST" else None
                    client_status = web.open(url, method=method, data=data).status_code
                checked += 1
                if client_status != expected:
                    wrong.append((method, url, client_status))
    assert wrong == []
    assert checked > 100


def test_own_objects_open_for_the_owner(app, db, flow, world):
    item, _ = flow.certified()
    consignment = db.get(Consignment, item.consignment_id)
    web = app.test_client()
    login(web, "merchant1")
    for url in (
        f"/m/listings/{world.listing_gold.id}",
        f"/m/consignments/{consignment.code}",
        f"/m/items/{item.code}/label.pdf?size=50x30",
        f"/m/items/{item.code}/label.zpl",
        f"/m/consignments/{consignment.code}/labels.pdf?size=a4",
        f"/m/consignments/{consignment.code}/labels.zpl?size=50x30",
        f"/m/consignments/{consignment.code}/packing-list.pdf",
    ):
        assert web.get(url).status_code == 200, url


def test_a_thousand_foreign_and_guessed_ids_all_get_404(app, db, theirs, token, world):
    """security.md check 1: ≥1,000 ids (merchant2's real ones, sequential and random) on every
    GET object route open to merchants; merchant1's own ids are left out of the sweep."""
    from qc_app.items.models import Item

    own = {str(world.listing_gold.id)} | {
        i.code for i in db.exec(select(Item)) if i.merchant_id == world.merchant_a.id
    }
    values = {
        "code": theirs["code"] + [random_code() for _ in range(70)],
        "listing_id": [i for i in range(1, 60) if str(i) not in own] + theirs["listing_id"],
        "number": theirs["number"] + [random_code("GTC", 12) for _ in range(30)],
        "digest": theirs["digest"] + [f"{RANDOM.getrandbits(256):064x}" for _ in range(10)],
        "order_no": theirs["order_no"] + [random_code("DY", 12) for _ in range(10)],
        "evidence_id": theirs["evidence_id"],
        "claim_number": theirs["claim_number"],
        "job_id": theirs["job_id"] + [uuid.uuid4().hex for _ in range(20)],
    }
    web = app.test_client()
    login(web, "merchant1")
    api = token("merchant1")
    sent, wrong = 0, []
    for rule in object_routes(app):
        roles = app.view_functions[rule.endpoint].qc_roles
        if "merchant" not in roles or "GET" not in rule.methods:
            continue
        for url in urls(rule, values):
            response = web.get(url, headers=api if rule.rule.startswith("/api/") else None)
            sent += 1
            if response.status_code != 404:
                wrong.append((url, response.status_code))
    assert wrong == []
    assert sent >= 1000
