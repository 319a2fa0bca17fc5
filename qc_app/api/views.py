"""The /api/v1 routes of DESIGN.md §8: bearer tokens, JSON in and out, errors as
{"error": {"code", "message"}}. Each route parses, calls one service, and shapes the answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request, url_for

from qc_app.api.openapi import document
from qc_app.auth.models import User
from qc_app.auth.services import user_for_token
from qc_app.authz import (
    CLAIMS,
    EVENTS,
    LAB_TERMINAL,
    MERCHANT_PORTAL,
    PARCELS,
    PLATFORM,
    SIGNED_IN,
    WAREHOUSE,
    WEBHOOKS,
    Guarded,
    allows,
)
from qc_app.certificates import lookup, revocation
from qc_app.certificates.pages import pdf_response, request_issue, request_reissue, wait_for
from qc_app.claims import services as claims
from qc_app.codes import normalize
from qc_app.db import parse_id, request_session
from qc_app.errors import BadRequest, Forbidden, NotFound, Unauthorized
from qc_app.i18n import msg
from qc_app.inspection import services as inspection
from qc_app.inspection.workflow import MACHINE as INSPECTIONS
from qc_app.intake import services as intake
from qc_app.items import proof
from qc_app.items import services as items
from qc_app.items.models import Item
from qc_app.jobs.models import Job, JobOutcome
from qc_app.jobs.services import get_job, job_error, reveal
from qc_app.labels import services as labels
from qc_app.labels.pages import labels_pdf_response, labels_zpl_response
from qc_app.listings import services as listings
from qc_app.listings.consistency import check_title
from qc_app.listings.services import set_labels
from qc_app.orders import services as orders
from qc_app.outbox import services as outbox
from qc_app.outbox.events import EVENT_TYPES
from qc_app.outbox.events import body as event_body
from qc_app.outbox.models import DeliveryState, Subscription
from qc_app.programmes import services as programmes
from qc_app.programmes.models import Programme
from qc_app.rules.engine import load_ruleset
from qc_app.units import cg_to_mass, parse_int
from qc_app.verification import throttle
from qc_app.web import config, error_json, files, limiter, now, public, public_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])


def token_permission(what: Guarded) -> Callable[[F], F]:
    """The call needs a bearer token whose user `authz.allows` lets do `what`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = (
                user_for_token(session=request_session(), token=token.strip(), now=now())
                if scheme.lower() == "bearer" and token.strip()
                else None
            )
            if user is None:
                raise Unauthorized(msg("缺少或无效的令牌"))
            if not allows(user, what):
                raise Forbidden(
                    msg("角色 {role} 无权调用此接口", role=user.role),
                )
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.qc_roles = tuple(sorted(what.roles))  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def caller() -> User:
    return g.api_user  # type: ignore[no-any-return]


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(msg("请求体须为 JSON 对象"))
    return data


def text(data: dict[str, Any], key: str) -> str:
    """A string field; JSON null or a non-string counts as missing (never the text "None")."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def form_json_object(form: Mapping[str, str], key: str) -> dict[str, Any]:
    """A multipart field carrying a JSON object (the intake's `dimensions`); absent is empty."""
    text = form.get(key, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise BadRequest(msg("{key} 须为 JSON 对象", key=key))
    return value


def item_json(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "state": str(item.state),
        "listing_id": item.listing_id,
        "declared_material": item.declared_material,
        "declared_mass_g": str(cg_to_mass(item.declared_mass_cg)),
        "received_mass_g": (
            str(cg_to_mass(item.received_mass_cg)) if item.received_mass_cg is not None else None
        ),
        "price_fen": item.price_fen,
        "hold_reason": item.hold_reason,
        "return_waybill_no": item.return_waybill_no,
        "article_type": item.article_type,
        "components": item.components,
        "dimensions": item.dimensions,
        "no_photo": item.no_photo,
    }


@bp.get("/openapi.json")
@public
def openapi() -> Any:
    return jsonify(document())


@bp.post("/listings")
@token_permission(MERCHANT_PORTAL)
def create_listing() -> Any:
    data = body()
    listing = listings.create_listing(
        session=request_session(),
        actor=caller(),
        title=data.get("title"),
        brand=data.get("brand"),
        material_code=data.get("material_code"),
        price_fen=data.get("price_fen"),
        style=data.get("style", ""),
        programme=data.get("programme"),
        now=now(),
    )
    return jsonify(
        {
            "id": listing.id,
            "title": listing.title,
            "brand": listing.brand,
            "material_code": listing.material_code,
            "price_fen": listing.price_fen,
            "programme": programme_json(request_session().get_one(Programme, listing.programme_id)),
        }
    ), 201


@bp.post("/consignments")
@token_permission(MERCHANT_PORTAL)
def create_consignment() -> Any:
    items = body().get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadRequest(msg("items 须为对象数组"))
    consignment = intake.create_consignment(
        session=request_session(), actor=caller(), items=items, now=now()
    )
    rows = intake.consignment_items(session=request_session(), consignment=consignment)
    return jsonify({"code": consignment.code, "items": [item_json(i) for i in rows]}), 201


@bp.get("/items/<code>")
@token_permission(SIGNED_IN)
def get_item(code: str) -> Any:
    return jsonify(item_json(items.get_item(session=request_session(), actor=caller(), code=code)))


@bp.post("/items/<code>/receive")
@token_permission(WAREHOUSE)
def receive(code: str) -> Any:
    photos: dict[str, bytes | None] = {}
    data: Mapping[str, Any]
    if request.mimetype == "multipart/form-data":
        data = request.form
        mass, dimensions = request.form.get("mass_g"), form_json_object(request.form, "dimensions")
        for view, field in proof.photo_fields().items():
            upload = request.files.get(field)
            photos[view] = upload.read() if upload else None
    else:
        data = body()
        mass, dimensions = data.get("mass_g"), data.get("dimensions") or {}
        if not isinstance(dimensions, dict):
            raise BadRequest(msg("dimensions 须为对象"))
    # Without an Idempotency-Key a repeated receive is 409; with the same key, the first answer.
    item = intake.receive_item(
        session=request_session(),
        actor=caller(),
        code=code,
        mass_g=mass,
        photo=photos.pop("front", None),
        views=photos,
        dimensions=dimensions,
        no_photo_reason=data.get("no_photo_reason"),
        no_photo_note=data.get("no_photo_note"),
        files=files(),
        now=now(),
        once_key=request.headers.get("Idempotency-Key"),
    )
    return jsonify(item_json(item))


@bp.post("/items/<code>/inspections")
@token_permission(LAB_TERMINAL)
def record_inspection(code: str) -> Any:
    data = body()
    raw = data.get("measurements", data)
    if not isinstance(raw, dict):
        raise BadRequest(msg("measurements 须为对象"))
    found = inspection.record_inspection(
        session=request_session(), actor=caller(), code=code, raw=raw, now=now()
    )
    return jsonify(inspection_json(found)), 201


def inspection_json(found: Any) -> dict[str, Any]:
    return {
        "id": found.id,
        "state": str(found.state),
        "material_code": found.material_code,
        "material_name": found.material_name_zh,
        "material_name_en": found.material_name_en,
        "verdict": found.verdict,
        "reasons": found.reasons,
        "measurements": found.measurements,
        "rule_version": found.rule_version,
        "components": found.parts,
        "grading": found.grading,
    }


@bp.post("/inspections/<int:inspection_id>/approve")
@token_permission(INSPECTIONS.transitions["approve"])
def approve(inspection_id: int) -> Any:
    found = inspection.approve(
        session=request_session(), actor=caller(), inspection_id=inspection_id, now=now()
    )
    return jsonify(inspection_json(found))


@bp.post("/inspections/<int:inspection_id>/reject")
@token_permission(INSPECTIONS.transitions["approve"])
def reject(inspection_id: int) -> Any:
    data = request.get_json(silent=True)
    found = inspection.send_back(
        session=request_session(),
        actor=caller(),
        inspection_id=inspection_id,
        note=text(data, "note") if isinstance(data, dict) else "",
        now=now(),
    )
    return jsonify(inspection_json(found))


@bp.post("/items/<code>/certificate")
@token_permission(WAREHOUSE)
def issue(code: str) -> Any:
    """Signed by the issuance tier: 201 with the certificate when its job finishes within
    QC_ISSUE_WAIT_SECONDS, else 202 with the job's status URL."""
    return job_answer(request_issue(caller(), code), ("number", "check_code", "verify_url"))


def job_answer(job: Job, fields: tuple[str, ...]) -> Any:
    job = wait_for(job, config().ISSUE_WAIT_SECONDS)
    if job.outcome == JobOutcome.DONE:
        result = reveal(session=request_session(), actor=caller(), job=job)
        return jsonify({key: result.get(key) for key in fields}), 201
    error = job_error(job)
    if error is not None:
        raise error
    status_url = url_for("api.get_job_status", job_id=job.id)
    return jsonify(job_json(job)), 202, {"Location": status_url}


def job_json(job: Job, result: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "job": job.id,
        "kind": job.kind,
        "status": str(job.outcome),
        "status_url": url_for("api.get_job_status", job_id=job.id),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if result is not None:
        found["certificate"] = result
    error = job_error(job)
    if error is not None:
        # The shape of every API error (web.py), with the status it would have answered with.
        found["error"] = {
            "code": error.code,
            "message": error.message.render("en"),
            "message_zh": error.message.render("zh"),
            "status": error.status,
        }
    return found


@bp.get("/jobs/<job_id>")
@token_permission(SIGNED_IN)
def get_job_status(job_id: str) -> Any:
    """A job the caller asked for (or, staff, could have): pending, running, done with the
    certificate (its check code at the requester's first read only), failed with the error."""
    session = request_session()
    job = get_job(session=session, actor=caller(), job_id=job_id)
    done = job.outcome == JobOutcome.DONE
    result = reveal(session=session, actor=caller(), job=job) if done else None
    return jsonify(job_json(job, result))


@bp.get("/certificates/<number>")
@public
@limiter.limit(public_limit)
def get_certificate(number: str) -> Any:

    # Unknown numbers spend the same budget as wrong check codes: no enumeration via the API.
    throttle.ensure_budget(number)
    found = lookup.find(request_session(), normalize(number))
    if found is None:
        throttle.spend(number)
        raise NotFound(msg("未找到证书"))
    return jsonify(
        {
            "number": found.number,
            "status": str(found.status),
            "revoked_at": found.revoked_at.isoformat() if found.revoked_at else None,
            "revoke_reason": found.revoke_reason,
            "superseded_by": found.superseded_by,
            "reissue_of": found.reissue_of,
            "payload": found.payload_fields(),
            "payload_canonical": found.payload,
            "signature": found.signature,
            "kid": found.kid,
            "alg": "EdDSA",
        }
    )


@bp.get("/certificates/<number>/pdf")
@token_permission(SIGNED_IN)
def certificate_pdf(number: str) -> Any:
    data = lookup.certificate_pdf(
        session=request_session(), actor=caller(), number=number, files=files()
    )
    return pdf_response(data, number)


@bp.post("/certificates/<number>/revoke")
@token_permission(PLATFORM)
def revoke(number: str) -> Any:
    found = revocation.revoke(
        session=request_session(),
        actor=caller(),
        number=number,
        reason=text(body(), "reason"),
        now=now(),
    )
    return jsonify(
        {"number": found.number, "status": str(found.status), "revoke_reason": found.revoke_reason}
    )


@bp.post("/certificates/<number>/reissue")
@token_permission(PLATFORM)
def reissue(number: str) -> Any:
    job = request_reissue(caller(), number, text(body(), "reason"))
    return job_answer(job, ("number", "check_code", "verify_url", "reissue_of"))


def programme_json(programme: Programme) -> dict[str, Any]:
    return {
        "code": programme.code,
        "name_zh": programme.name_zh,
        "name_en": programme.name_en,
        "multiplier": programme.multiplier,
        "window_days": programme.window_days,
    }


def order_json(order: Any, item: Item | None = None) -> dict[str, Any]:
    named = request_session().get_one(Programme, order.programme_id)
    return {
        "order_no": order.order_no,
        "waybill_no": order.waybill_no,
        "listing_id": order.listing_id,
        "programme": named.code,
        "state": str(order.state),
        "item_code": item.code if item else None,
        "seal_no": order.seal_no,
        "packed_mass_g": (
            str(cg_to_mass(order.packed_mass_cg)) if order.packed_mass_cg is not None else None
        ),
        "cancel_reason": order.cancel_reason,
    }


@bp.post("/orders")
@token_permission(PLATFORM)
def create_order() -> Any:
    data = body()
    order = orders.create_order(
        session=request_session(),
        actor=caller(),
        order_no=text(data, "order_no"),
        listing_id=parse_id(data.get("listing_id"), field="listing_id"),
        price_paid_fen=data.get("price_paid_fen"),
        waybill_no=text(data, "waybill_no"),
        item_code=text(data, "item_code"),
        programme=data.get("programme"),
        now=now(),
    )
    return jsonify(order_json(order, orders.item_of(request_session(), order))), 201


@bp.get("/orders/<order_no>")
@token_permission(PARCELS)
def get_order(order_no: str) -> Any:
    db = request_session()
    order = orders.get_order(session=db, actor=caller(), order_no=order_no)
    return jsonify(order_json(order, orders.item_of(db, order)))


@bp.post("/packing")
@token_permission(WAREHOUSE)
def pack() -> Any:
    if request.mimetype == "multipart/form-data":
        data: dict[str, Any] = dict(request.form)
        upload = request.files.get("photo")
        photo = upload.read() if upload else None
    else:
        data, photo = body(), None
    db = request_session()
    order = orders.pack(
        session=db,
        actor=caller(),
        waybill_no=text(data, "waybill_no"),
        item_code=text(data, "item_code"),
        certificate_scan=text(data, "certificate"),
        seal_no=text(data, "seal_no"),
        mass_g=data.get("mass_g"),
        photo=photo,
        files=files(),
        station="packing@api",
        once_key=request.headers.get("Idempotency-Key"),
        now=now(),
    )
    return jsonify(order_json(order, orders.item_of(db, order)))


@bp.post("/orders/<waybill_no>/ship")
@token_permission(WAREHOUSE)
def ship(waybill_no: str) -> Any:
    order = orders.ship(session=request_session(), actor=caller(), waybill_no=waybill_no, now=now())
    return jsonify({"order_no": order.order_no, "state": str(order.state)})


# -- merchant side: listings, labels, consignments (issue 6) -----------------------------------


def listing_json(listing: Any, named: dict[int, Programme]) -> dict[str, Any]:

    return {
        "id": listing.id,
        "version": listing.version,
        "title": listing.title,
        "brand": listing.brand,
        "style": listing.style,
        "material_code": listing.material_code,
        "price_fen": listing.price_fen,
        "labels": {"authentic": listing.label_authentic, "guarantee": listing.label_guarantee},
        "programme": programme_json(named[listing.programme_id]),
        "title_warnings": [
            {
                "kind": w.kind,
                "term": w.term,
                "message": w.text.render("en"),
                "message_zh": w.text.render("zh"),
            }
            for w in check_title(listing.title, listing.material_code, load_ruleset())
        ],
    }


@bp.get("/listings")
@token_permission(MERCHANT_PORTAL)
def list_listings() -> Any:
    db = request_session()
    rows = listings.merchant_listings(session=db, actor=caller())
    named = programmes.by_id(db)
    return jsonify({"listings": [listing_json(x, named) for x in rows]})


@bp.get("/listings/<int:listing_id>")
@token_permission(MERCHANT_PORTAL)
def get_listing(listing_id: int) -> Any:
    db = request_session()
    found = listings.get_listing(session=db, actor=caller(), listing_id=listing_id)
    return jsonify(listing_json(found, programmes.by_id(db)))


@bp.patch("/listings/<int:listing_id>")
@token_permission(MERCHANT_PORTAL)
def edit_listing(listing_id: int) -> Any:
    data = body()
    unknown = sorted(set(data) - {*listings.EDITABLE, "version"})
    if unknown:
        raise BadRequest(msg("未知的字段：{keys}", keys=", ".join(unknown)))
    found, _ = listings.edit_listing(
        session=request_session(),
        actor=caller(),
        listing_id=listing_id,
        changes={k: v for k, v in data.items() if k in listings.EDITABLE},
        version=data.get("version"),
        now=now(),
    )
    return jsonify(listing_json(found, programmes.by_id(request_session())))


@bp.post("/listings/<int:listing_id>/labels")
@token_permission(MERCHANT_PORTAL)
def set_listing_labels(listing_id: int) -> Any:

    data = body()
    flags = {k: data.get(k, False) for k in ("authentic", "guarantee")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise BadRequest(msg("authentic / guarantee 须为布尔值"))
    found = set_labels(
        session=request_session(),
        actor=caller(),
        listing_id=listing_id,
        authentic=flags["authentic"],
        guarantee=flags["guarantee"],
        now=now(),
    )
    return jsonify(listing_json(found, programmes.by_id(request_session())))


@bp.get("/consignments/<code>")
@token_permission(PARCELS)
def get_consignment(code: str) -> Any:
    found = intake.get_consignment(session=request_session(), actor=caller(), code=code)
    rows = intake.consignment_items(session=request_session(), consignment=found)
    return jsonify({"code": found.code, "items": [item_json(i) for i in rows]})


@bp.post("/consignments/import")
@token_permission(MERCHANT_PORTAL)
def import_consignment() -> Any:

    try:
        found = intake.import_consignment_csv(
            session=request_session(), actor=caller(), data=request.get_data(), now=now()
        )
    except intake.CsvRejected as exc:
        rows = [
            {"line": line, "message": said.render("en"), "message_zh": said.render("zh")}
            for line, said in exc.rows
        ]
        return error_json(
            exc.code,
            exc.message.render("en"),
            exc.status,
            message_zh=exc.message.render("zh"),
            rows=rows,
        )
    items = intake.consignment_items(session=request_session(), consignment=found)
    return jsonify({"code": found.code, "items": [item_json(i) for i in items]}), 201


@bp.get("/items/<code>/label.pdf")
@token_permission(PARCELS)
def item_label_pdf(code: str) -> Any:

    size = labels.check_size(request.args.get("size"))
    label = labels.item_label(session=request_session(), actor=caller(), code=code)
    return labels_pdf_response([label], size, label.item_code)


@bp.get("/items/<code>/label.zpl")
@token_permission(PARCELS)
def item_label_zpl(code: str) -> Any:

    size = labels.check_size(request.args.get("size"), sheet=False)
    label = labels.item_label(session=request_session(), actor=caller(), code=code)
    return labels_zpl_response([label], size, label.item_code)


@bp.post("/orders/<waybill_no>/deliver")
@token_permission(PLATFORM)
def deliver(waybill_no: str) -> Any:
    """The parcel reached the consumer (from the carrier's feed): the claim window opens."""
    order = orders.deliver(
        session=request_session(), actor=caller(), waybill_no=waybill_no, now=now()
    )
    return jsonify({"order_no": order.order_no, "state": str(order.state)})


def claim_json(claim: Any) -> dict[str, Any]:
    return {
        "number": claim.number,
        "state": claim.state,
        "reason": str(claim.reason),
        "rejection_ground": claim.rejection_ground,
        "refund_fen": claim.refund_fen,
        "compensation_fen": claim.compensation_fen,
        "postage_fen": claim.postage_fen,
        "payout_fen": claim.payout_fen,
        "created_at": claim.created_at.isoformat(),
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
    }


@bp.get("/claims/<number>")
@token_permission(CLAIMS)
def get_claim(number: str) -> Any:

    return jsonify(
        claim_json(claims.get_claim(session=request_session(), actor=caller(), number=number))
    )


@bp.post("/claims/<number>/decision")
@token_permission(PLATFORM)
def decide_claim(number: str) -> Any:

    data = body()
    decision = text(data, "decision")
    if decision not in ("uphold", "reject"):
        raise BadRequest(msg("decision 须为 uphold 或 reject"))
    claim = claims.decide(
        session=request_session(),
        actor=caller(),
        number=number,
        uphold=decision == "uphold",
        note=text(data, "note"),
        ground=text(data, "ground") or None,
        postage_fen=data.get("postage_fen"),
        now=now(),
    )
    return jsonify(claim_json(claim))


# -- the outbox: the pull feed and webhook subscriptions ---------------------------------------


@bp.get("/events")
@token_permission(EVENTS)
def list_events() -> Any:
    """Events after the cursor, in commit order (a merchant's token: its own shop's only)."""
    after = parse_int(request.args.get("after", "0"), field="after", low=0, high=2**62)
    limit = parse_int(
        request.args.get("limit", "100"), field="limit", low=1, high=outbox.FEED_LIMIT
    )
    page = outbox.feed(
        session=request_session(), actor=caller(), after=after, limit=limit, now=now()
    )
    return jsonify({"events": [event_body(e) for e in page.events], "cursor": str(page.cursor)})


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "description": subscription.description,
        "event_types": subscription.event_types,
        "secret_hint": subscription.secret_hint,
        "active": subscription.active,
        "created_at": subscription.created_at.isoformat(),
    }


@bp.get("/webhooks")
@token_permission(WEBHOOKS)
def list_webhooks() -> Any:
    found = outbox.subscriptions(session=request_session(), actor=caller())
    return jsonify(
        {"webhooks": [subscription_json(s) for s in found], "event_types": list(EVENT_TYPES)}
    )


@bp.post("/webhooks")
@token_permission(WEBHOOKS)
def create_webhook() -> Any:
    """The answer carries the secret: the only time it is shown."""
    data = body()
    subscription, secret = outbox.create_subscription(
        session=request_session(),
        actor=caller(),
        url=data.get("url"),
        event_types=data.get("event_types"),
        description=data.get("description"),
        key=config().WEBHOOK_SEAL_KEY,
        now=now(),
    )
    return jsonify(subscription_json(subscription) | {"secret": secret}), 201


@bp.post("/webhooks/<int:subscription_id>/active")
@token_permission(WEBHOOKS)
def set_webhook_active(subscription_id: int) -> Any:
    active = body().get("active")
    if not isinstance(active, bool):
        raise BadRequest(msg("active 须为布尔值"))
    subscription = outbox.set_active(
        session=request_session(),
        actor=caller(),
        subscription_id=parse_id(subscription_id, field="subscription_id"),
        active=active,
        now=now(),
    )
    return jsonify(subscription_json(subscription))


@bp.get("/webhooks/<int:subscription_id>/deliveries")
@token_permission(WEBHOOKS)
def list_deliveries(subscription_id: int) -> Any:
    state = request.args.get("state")
    if state is not None and state not in set(DeliveryState):
        raise BadRequest(msg("state 须为 pending、delivered 或 dead"))
    session = request_session()
    outbox.get_subscription(
        session=session, actor=caller(), subscription_id=parse_id(subscription_id, field="id")
    )
    rows = outbox.deliveries(
        session=session,
        actor=caller(),
        subscription_id=subscription_id,
        state=DeliveryState(state) if state else None,
    )
    return jsonify(
        {
            "deliveries": [
                {
                    "id": r.delivery.id,
                    "event_id": r.event.uid,
                    "type": r.event.type,
                    "state": str(r.delivery.outcome),
                    "attempts": r.delivery.attempts,
                    "next_attempt_at": r.delivery.next_attempt_at.isoformat(),
                    "last_status": r.delivery.last_status,
                    "last_response": r.delivery.last_response,
                }
                for r in rows
            ]
        }
    )
