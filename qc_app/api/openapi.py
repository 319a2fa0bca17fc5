"""The OpenAPI 3.1 document of /api/v1: the contract the platform integrates against.

Measurement keys are listed from the rules data, so the document never drifts from the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qc_app.db import MAX_DB_INT
from qc_app.items import proof
from qc_app.outbox.events import EVENT_TYPES
from qc_app.rules.engine import load_ruleset
from qc_app.rules.pieces import articles

JSON = "application/json"
PHOTO_FIELDS = proof.photo_fields()
DIMENSIONS_TEXT = (
    "the dimensions that identify the piece (items/data/proof.json: which ones each article "
    "type needs), as numbers or exact decimal strings"
)
DIMENSIONS = {
    "type": "object",
    "description": DIMENSIONS_TEXT,
    "properties": {
        key: {"oneOf": [{"type": "number"}, {"type": "string"}]} for key in proof.dimension_keys()
    },
    "additionalProperties": False,
}


NO_PHOTO = {
    "no_photo_reason": {
        "type": "string",
        "enum": list(proof.no_photo_reasons()),
        "description": "without photos only: why none could be taken (issue 18: intake needs "
        "the complete set, front, back and the stamp for metals or a detail otherwise, unless "
        "this is given); shown in words on the certificate and the consumer's page",
    },
    "no_photo_note": {
        "type": "string",
        "maxLength": proof.NOTE_MAX,
        "description": "the inspector's words with the reason; required for `other`",
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _ok(status: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": schema}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "malformed request",
        401: "no or bad token",
        403: "role not allowed",
        404: "not found or not yours",
        409: "illegal transition, or lost to a concurrent request (nothing saved)",
        422: "invalid value",
        429: "rate limited",
    }
    return {
        str(s): {"description": text[s], "content": {JSON: {"schema": _ref("Error")}}}
        for s in statuses
    }


def _queued() -> dict[str, Any]:
    """Signing happens on the issuance tier (the workers): an answer that is not ready within
    QC_ISSUE_WAIT_SECONDS (5 s by default) is this, and the job's URL gives it later."""
    return {
        "202": {
            "description": "queued: not finished within a few seconds; poll the job's "
            "status_url (also the Location header) until it is done or failed",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {JSON: {"schema": _ref("Job")}},
        }
    }


def _op(
    summary: str,
    roles: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    secured: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": f"Who: {roles}.",
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    op["security"] = [{"bearer": []}] if secured else []
    return op


def _path(name: str, pattern: str = "^[0-9A-Za-z-]{1,40}$") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
    }


def _measurement_schema() -> dict[str, Any]:
    rules = load_ruleset()
    properties: dict[str, Any] = {}
    per_family: list[str] = []
    for family in sorted(rules.families):
        fields = rules.fields(family)
        for key, spec in fields.items():
            schema = _field_schema(spec)
            if "enum" in schema and key in properties:
                known = properties[key]["enum"]
                schema["enum"] = known + [c for c in schema["enum"] if c not in known]
            properties[key] = schema
        required = [k for k, spec in fields.items() if spec["required"]]
        per_family.append(f"{family}: {', '.join(fields)} (required: {', '.join(required)})")
    parts = {
        key: _field_schema(rules.raw["fields"][key])
        for key in ("count", "bead_diameter_mm", "carat")
    }
    groups = rules.raw["components"]["bead_groups"]
    parts["beads_not_as_declared"] = {
        "type": "array",
        "maxItems": int(groups["max_groups"]),
        "description": "bead strings only (declared with bead_diameter_mm): groups of beads "
        "not as declared, each its count and what the beads were identified as (species and "
        "the screening results of the component's family); any such bead fails the item, and "
        "the groups' counts must stay below the string's count. Omit when every bead is as "
        "declared",
        "items": {
            "type": "object",
            "required": ["count", "species"],
            "properties": {
                "count": _field_schema(rules.raw["fields"]["count"]),
                **{
                    k: v
                    for k, v in properties.items()
                    if k == "species" or v.get("type") == "boolean"
                },
            },
        },
    }
    properties["components"] = {
        "type": "array",
        "maxItems": 12,
        "description": "set pieces only: one object per declared component, in the declared "
        "order, with the keys of that component's material family (mass_g optional) plus "
        "count and bead_diameter_mm for stones and beads, and carat (estimated) for set "
        "diamonds; the top level then holds only mass_g (total), brand_mark, observations",
        "items": {"type": "object", "properties": {**properties, **parts}},
    }
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": "Keys per material family (DESIGN.md §3); decimals as numbers or "
        "strings, never rounded. The family follows from the declared material code: "
        + "; ".join(per_family),
    }


def _field_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    label = f"{spec['label_zh']} / {spec['label_en']}" + (
        f" ({spec['unit']})" if spec["unit"] else ""
    )
    if spec["type"] == "decimal":
        return {
            "description": label,
            "oneOf": [
                {"type": "number", "minimum": float(spec["min"]), "maximum": float(spec["max"])},
                {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
            ],
        }
    if spec["type"] == "choice":
        return {"description": label, "type": "string", "enum": spec["choices"]}
    if spec["type"] == "bool":
        return {"description": label, "type": "boolean"}
    return {"description": label, "type": "string", "maxLength": spec["max_length"]}


def _schemas() -> dict[str, Any]:
    decimal = {"oneOf": [{"type": "number"}, {"type": "string"}]}
    rules = load_ruleset()
    materials = sorted(rules.declarations)
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "message_zh": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "description": "validation_failed: what is wrong with each input "
                            "field, by the field's name",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {
                                    "message": {"type": "string"},
                                    "message_zh": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
        "MaterialCode": {"type": "string", "enum": materials},
        "ListingIn": {
            "type": "object",
            "required": ["title", "material_code", "price_fen"],
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 120},
                "brand": {"type": "string", "maxLength": 60},
                "style": {"type": "string", "maxLength": 60},
                "material_code": _ref("MaterialCode"),
                "price_fen": {"type": "integer", "minimum": 1},
                "programme": {
                    "type": "string",
                    "maxLength": 16,
                    "description": "code of a running guarantee programme (the `programmes` "
                    "table: JYPS 假一赔十 ×10, AXG 安心购 退一赔三 ×3, KS_XRG 快手信任购 ×10); "
                    "default JYPS. An unknown or ended one is 422",
                },
            },
        },
        "Programme": {
            "type": "object",
            "description": "the guarantee programme a listing or an order names; a claim "
            "upheld pays the price paid + multiplier × the price paid + postage",
            "properties": {
                "code": {"type": "string"},
                "name_zh": {"type": "string"},
                "name_en": {"type": "string"},
                "multiplier": {"type": "integer"},
                "window_days": {"type": "integer", "description": "claim window after delivery"},
            },
        },
        "Listing": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "brand": {"type": "string"},
                "material_code": {"type": "string"},
                "price_fen": {"type": "integer"},
                "programme": _ref("Programme"),
            },
        },
        "ListingEdit": {
            "type": "object",
            "description": "the fields to change (others stay); `version` as last read, to "
            "refuse an edit made on a listing someone else has changed since (409). The "
            "declared material cannot change once a certificate was issued under the listing.",
            "additionalProperties": False,
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 120},
                "brand": {"type": "string", "maxLength": 60},
                "style": {"type": "string", "maxLength": 60},
                "material_code": _ref("MaterialCode"),
                "price_fen": {"type": "integer", "minimum": 1},
                "version": {"type": "integer"},
            },
        },
        "ListingOut": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "version": {"type": "integer", "description": "send back with an edit"},
                "title": {"type": "string"},
                "brand": {"type": "string"},
                "style": {"type": "string"},
                "material_code": {"type": "string"},
                "price_fen": {"type": "integer"},
                "labels": _ref("Labels"),
                "programme": _ref("Programme"),
                "title_warnings": {
                    "type": "array",
                    "description": "what the title promises that certificates cannot confirm",
                    "items": {
                        "type": "object",
                        "properties": {
                            "kind": {
                                "type": "string",
                                "enum": ["origin", "variety", "skin_colour", "fineness", "metal"],
                            },
                            "term": {"type": "string"},
                            "message": {"type": "string"},
                            "message_zh": {"type": "string"},
                        },
                    },
                },
            },
        },
        "Labels": {
            "type": "object",
            "description": "鉴定验真 (authentic) and the guarantee label (needs authentic), "
            "which names the listing's programme",
            "properties": {"authentic": {"type": "boolean"}, "guarantee": {"type": "boolean"}},
        },
        "CsvError": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "rows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "line": {"type": "integer"},
                                    "message": {"type": "string"},
                                    "message_zh": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
        "ConsignmentIn": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 500,
                    "items": {
                        "type": "object",
                        "required": ["listing_id", "mass_g"],
                        "properties": {
                            "listing_id": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT},
                            "declared_material": _ref("MaterialCode"),
                            "mass_g": decimal,
                            "price_fen": {"type": "integer", "minimum": 1},
                            "description": {"type": "string", "maxLength": 200},
                            "order_no": {
                                "type": "string",
                                "description": "order-driven: the open order this item is for",
                            },
                            "article_type": _ref("ArticleType"),
                            "components": {
                                "type": "array",
                                "maxItems": 12,
                                "description": "a set piece's parts (needs article_type): the "
                                "metal (material, stamp) and each stone, jade or bead part "
                                "(material, count; diamonds their total carat; beads their "
                                "diameter). declared_material, when given, must be one of them",
                                "items": _ref("ComponentIn"),
                            },
                        },
                    },
                }
            },
        },
        "ArticleType": {"type": "string", "enum": sorted(articles(rules))},
        "ComponentIn": {
            "type": "object",
            "required": ["material"],
            "additionalProperties": False,
            "properties": {
                "material": _ref("MaterialCode"),
                "stamp": {"type": "string", "maxLength": 40, "description": "metals only"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10000},
                "carat": {**decimal, "description": "diamonds only: total carat, 2 decimals"},
                "bead_diameter_mm": {**decimal, "description": "bead strings: 1 decimal"},
            },
        },
        "Item": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "state": {"type": "string"},
                "listing_id": {"type": "integer"},
                "declared_material": {"type": "string"},
                "declared_mass_g": {"type": "string"},
                "received_mass_g": {"type": ["string", "null"]},
                "price_fen": {"type": "integer"},
                "hold_reason": {"type": ["string", "null"]},
                "return_waybill_no": {"type": ["string", "null"]},
                "article_type": {"type": ["string", "null"]},
                "components": {"type": ["array", "null"], "items": {"type": "object"}},
                "dimensions": {
                    "type": ["object", "null"],
                    "description": "the identifying dimensions measured at intake, exact text",
                    "additionalProperties": {"type": "string"},
                },
                "no_photo": {
                    "type": ["object", "null"],
                    "description": "received without photos: the recorded reason code and note",
                    "properties": {"reason": {"type": "string"}, "note": {"type": "string"}},
                },
            },
        },
        "Consignment": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "items": {"type": "array", "items": _ref("Item")},
            },
        },
        "Measurements": _measurement_schema(),
        "Inspection": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "state": {"type": "string"},
                "material_code": {"type": "string"},
                "material_name": {"type": "string"},
                "material_name_en": {"type": "string"},
                "verdict": {"type": "string", "enum": ["pass", "fail"]},
                "reasons": {"type": "array", "items": {"type": "object"}},
                "measurements": {"type": "object"},
                "rule_version": {"type": "string"},
                "components": {
                    "type": ["array", "null"],
                    "description": "a set piece: each component judged (name, verdict, reasons)",
                    "items": {"type": "object"},
                },
                "grading": {
                    "type": ["object", "null"],
                    "description": "GB/T 16554 grading of a natural diamond",
                },
            },
        },
        "Issued": {
            "type": "object",
            "properties": {
                "number": {"type": "string"},
                "check_code": {"type": "string"},
                "verify_url": {"type": "string"},
            },
        },
        "Job": {
            "type": "object",
            "required": ["job", "kind", "status", "status_url", "created_at"],
            "properties": {
                "job": {"type": "string"},
                "kind": {"type": "string"},
                "status": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
                "status_url": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": ["string", "null"], "format": "date-time"},
                "certificate": {
                    "description": "done: the certificate (as the 201 answer; check_code at "
                    "the requester's first read only)",
                    **_ref("Reissued"),
                },
                "error": {
                    "description": "failed: the error the call would have answered with, "
                    "and its HTTP status",
                    "type": "object",
                    "required": ["code", "message", "status"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "message_zh": {"type": "string"},
                        "status": {"type": "integer"},
                    },
                },
            },
        },
        "Reissued": {
            "type": "object",
            "properties": {
                "number": {"type": "string"},
                "check_code": {"type": "string"},
                "verify_url": {"type": "string"},
                "reissue_of": {"type": "string"},
            },
        },
        "Certificate": {
            "type": "object",
            "properties": {
                "number": {"type": "string"},
                "status": {"type": "string", "enum": ["valid", "revoked"]},
                "revoked_at": {"type": ["string", "null"], "format": "date-time"},
                "revoke_reason": {"type": ["string", "null"]},
                "superseded_by": {
                    "type": ["string", "null"],
                    "description": "number of the certificate that replaced this one (reissue)",
                },
                "reissue_of": {
                    "type": ["string", "null"],
                    "description": "number of the certificate this one replaced",
                },
                "payload": {"type": "object"},
                "payload_canonical": {"type": "string"},
                "signature": {"type": "string"},
                "kid": {"type": "string"},
                "alg": {"type": "string"},
            },
        },
        "OrderIn": {
            "type": "object",
            "required": ["order_no", "listing_id", "price_paid_fen", "waybill_no"],
            "properties": {
                "order_no": {"type": "string"},
                "listing_id": {"type": "integer"},
                "price_paid_fen": {"type": "integer"},
                "waybill_no": {"type": "string"},
                "item_code": {
                    "type": "string",
                    "description": "bind a piece already at the warehouse (stock sold)",
                },
                "programme": {
                    "type": "string",
                    "maxLength": 16,
                    "description": "code of a running guarantee programme for this order; "
                    "default: the listing's. The order keeps it whatever the listing names later",
                },
            },
        },
        "Order": {
            "type": "object",
            "properties": {
                "order_no": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": ["open", "packed", "shipped", "delivered", "cancelled"],
                },
                "waybill_no": {"type": "string"},
                "listing_id": {"type": "integer"},
                "programme": {"type": "string", "description": "the programme's code"},
                "item_code": {"type": ["string", "null"]},
                "seal_no": {"type": ["string", "null"]},
                "packed_mass_g": {"type": ["string", "null"]},
                "cancel_reason": {
                    "type": ["string", "null"],
                    "description": "why the order was cancelled (the item failed QC)",
                },
            },
        },
    }


def label_size(sizes: list[str]) -> dict[str, Any]:
    return {
        "name": "size",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": sizes, "default": "60x40"},
    }


def _claim_paths() -> dict[str, Any]:
    """假一赔十 claims (issue 5); consumers file and follow them on the web pages."""
    claim = {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "state": {
                "type": "string",
                "enum": ["filed", "accepted", "disputed", "reinspection", "upheld", "rejected"],
            },
            "reason": {"type": "string", "enum": ["brand", "material"]},
            "rejection_ground": {
                "type": ["string", "null"],
                "enum": [
                    "brand_owner",
                    "item_swapped",
                    "not_consumer",
                    "insufficient_evidence",
                    None,
                ],
            },
            "refund_fen": {"type": ["integer", "null"]},
            "compensation_fen": {"type": ["integer", "null"]},
            "postage_fen": {"type": "integer"},
            "payout_fen": {"type": ["integer", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    decision = {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"type": "string", "enum": ["uphold", "reject"]},
            "ground": {
                "type": "string",
                "enum": ["brand_owner", "item_swapped", "not_consumer", "insufficient_evidence"],
            },
            "postage_fen": {"type": "integer", "minimum": 0},
            "note": {"type": "string"},
        },
    }
    number = _path("number")
    return {
        "/api/v1/orders/{waybill_no}/deliver": {
            "post": _op(
                "Mark an order delivered: the claim window opens",
                "admin",
                {**_ok("200", _ref("Order"), "delivered"), **_errors(401, 403, 404, 409)},
                params=[_path("waybill_no")],
            )
        },
        "/api/v1/claims/{number}": {
            "get": _op(
                "A claim: state and payout (integer fen)",
                "merchant (own), admin",
                {**_ok("200", claim, "the claim"), **_errors(401, 403, 404)},
                params=[number],
            )
        },
        "/api/v1/claims/{number}/decision": {
            "post": _op(
                "Decide a claim: uphold (payout = refund + multiplier × price paid + postage; "
                "certificate revoked) or reject with a ground",
                "admin",
                {**_ok("200", claim, "decided"), **_errors(400, 401, 403, 404, 409, 422)},
                body=_body(decision),
                params=[number],
            )
        },
    }


def _event_paths() -> dict[str, Any]:
    """The outbox (issue 15): the pull feed and webhook subscriptions."""
    event = {
        "type": "object",
        "required": ["id", "type", "timestamp", "cursor", "data"],
        "properties": {
            "id": {"type": "string", "description": "stable id; the webhook-id header"},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "timestamp": {"type": "string", "format": "date-time"},
            "cursor": {"type": "string", "description": "position in commit order"},
            "data": {"type": "object", "description": "codes, numbers, states; merchant_id"},
        },
    }
    webhook = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "description": {"type": "string"},
            "event_types": {"type": "array", "items": {"type": "string"}},
            "secret_hint": {"type": "string"},
            "active": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "secret": {"type": "string", "description": "whsec_…: in the 201 answer only"},
        },
    }
    webhook_in = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "maxLength": 500, "description": "http:// or https://"},
            "event_types": {
                "type": "array",
                "items": {"type": "string", "enum": list(EVENT_TYPES)},
                "description": "empty or absent: every type",
            },
            "description": {"type": "string", "maxLength": 200},
        },
    }
    subscription_id = {
        "name": "subscription_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT},
    }

    def query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema}

    return {
        "/api/v1/events": {
            "get": _op(
                "Events after a cursor, in commit order (the webhooks' events, for polling). "
                "Pass the answer's cursor as `after` for the next page",
                "admin (every event), merchant (its own shop's)",
                {
                    **_ok(
                        "200",
                        {
                            "type": "object",
                            "properties": {
                                "events": {"type": "array", "items": event},
                                "cursor": {"type": "string"},
                            },
                        },
                        "a page of events",
                    ),
                    **_errors(401, 403, 422),
                },
                params=[
                    query("after", {"type": "integer", "minimum": 0, "default": 0}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                ],
            )
        },
        "/api/v1/webhooks": {
            "get": _op(
                "Webhook subscriptions, and the event types one can subscribe to",
                "admin",
                {**_ok("200", {"type": "object"}, "the subscriptions"), **_errors(401, 403)},
            ),
            "post": _op(
                "Subscribe an endpoint: deliveries are signed the Standard Webhooks way with "
                "the secret in the answer (shown once)",
                "admin",
                {**_ok("201", webhook, "created"), **_errors(400, 401, 403, 422)},
                body=_body(webhook_in),
            ),
        },
        "/api/v1/webhooks/{subscription_id}/active": {
            "post": _op(
                "Pause or resume a subscription (paused: events wait, none is lost)",
                "admin",
                {**_ok("200", webhook, "changed"), **_errors(400, 401, 403, 404)},
                body=_body(
                    {
                        "type": "object",
                        "required": ["active"],
                        "properties": {"active": {"type": "boolean"}},
                    }
                ),
                params=[subscription_id],
            )
        },
        "/api/v1/webhooks/{subscription_id}/deliveries": {
            "get": _op(
                "A subscription's newest deliveries: state, attempts, last answer",
                "admin",
                {**_ok("200", {"type": "object"}, "the deliveries"), **_errors(400, 401, 403, 404)},
                params=[
                    subscription_id,
                    query("state", {"type": "string", "enum": ["pending", "delivered", "dead"]}),
                ],
            )
        },
    }


def document() -> dict[str, Any]:
    code, number, inspection_id = (
        _path("code"),
        _path("number"),
        {
            "name": "inspection_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
    )
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Repeat a call safely: the same key with the same body returns the first "
        "answer; the same key with another body is refused (422).",
        "schema": {"type": "string", "maxLength": 80},
    }
    listing_id = {
        "name": "listing_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT},
    }
    reason = {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qc_app API",
            "version": "1",
            "description": "鉴定验真 QC warehouse. Money in integer fen; mass in grams "
            "with 2 decimals; fineness in ‰ with 1 decimal. Tokens: "
            "`flask --app qc_app qc token create USERNAME`. Public keys: "
            "`/.well-known/jwks.json` lists every Ed25519 key, current and retired, with "
            "`nbf`/`exp` (epoch seconds: when the key may have signed; no `exp` = current) "
            "and `qc_state` (`current`/`retired`); a payload whose `issued_at` falls outside "
            "its key's window is refused. The entry with `qc_role: pdf-ca` carries the "
            "platform CA certificate (`x5c`), the trust root of the PDF's PAdES signature.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/api/v1/listings": {
                "get": _op(
                    "The caller's listings, with labels and title warnings",
                    "merchant",
                    {
                        **_ok(
                            "200",
                            {
                                "type": "object",
                                "properties": {
                                    "listings": {"type": "array", "items": _ref("ListingOut")}
                                },
                            },
                            "the listings",
                        ),
                        **_errors(401, 403),
                    },
                ),
                "post": _op(
                    "Create a listing",
                    "merchant",
                    {**_ok("201", _ref("Listing"), "created"), **_errors(400, 401, 403, 422)},
                    body=_body(_ref("ListingIn")),
                ),
            },
            "/api/v1/listings/{listing_id}": {
                "get": _op(
                    "A listing, its labels and title warnings",
                    "owner merchant",
                    {**_ok("200", _ref("ListingOut"), "the listing"), **_errors(401, 403, 404)},
                    params=[listing_id],
                ),
                "patch": _op(
                    "Edit a listing; the answer carries the title check run again "
                    "(title_warnings). 409 when another edit came first",
                    "owner merchant",
                    {
                        **_ok("200", _ref("ListingOut"), "edited"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(_ref("ListingEdit")),
                    params=[listing_id],
                ),
            },
            "/api/v1/listings/{listing_id}/labels": {
                "post": _op(
                    "Switch the 鉴定验真 / 假一赔十 labels on or off (needs programme membership)",
                    "owner merchant",
                    {
                        **_ok("200", _ref("ListingOut"), "labels set"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(_ref("Labels")),
                    params=[listing_id],
                )
            },
            "/api/v1/consignments/{code}": {
                "get": _op(
                    "A consignment and the state of each item",
                    "owner merchant, inspector, admin",
                    {
                        **_ok("200", _ref("Consignment"), "the consignment"),
                        **_errors(401, 403, 404),
                    },
                    params=[code],
                )
            },
            "/api/v1/consignments/import": {
                "post": _op(
                    "Declare a consignment from CSV (columns listing_id, declared_material, "
                    "mass_g, price_yuan or price_fen, description); one bad row saves nothing "
                    "and every bad row is listed with its line number",
                    "merchant",
                    {
                        **_ok("201", _ref("Consignment"), "created"),
                        **_errors(401, 403),
                        "422": {
                            "description": "rows refused",
                            "content": {JSON: {"schema": _ref("CsvError")}},
                        },
                    },
                    body={
                        "required": True,
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                )
            },
            "/api/v1/items/{code}/label.pdf": {
                "get": _op(
                    "Item label PDF: QR + Code128 + item code + declared material",
                    "owner merchant, inspector, admin",
                    {
                        "200": {"description": "PDF", "content": {"application/pdf": {}}},
                        **_errors(401, 403, 404, 422),
                    },
                    params=[code, label_size(["60x40", "50x30", "a4"])],
                )
            },
            "/api/v1/items/{code}/label.zpl": {
                "get": _op(
                    "Item label as ZPL II (UTF-8, ^CI28, CJK font E:SIMSUN.TTF)",
                    "owner merchant, inspector, admin",
                    {
                        "200": {"description": "ZPL", "content": {"text/plain": {}}},
                        **_errors(401, 403, 404, 422),
                    },
                    params=[code, label_size(["60x40", "50x30"])],
                )
            },
            "/api/v1/consignments": {
                "post": _op(
                    "Declare items in a consignment",
                    "merchant",
                    {**_ok("201", _ref("Consignment"), "created"), **_errors(400, 401, 403, 422)},
                    body=_body(_ref("ConsignmentIn")),
                )
            },
            "/api/v1/items/{code}": {
                "get": _op(
                    "An item and its state",
                    "owner merchant, staff",
                    {**_ok("200", _ref("Item"), "the item"), **_errors(401, 403, 404)},
                    params=[code],
                )
            },
            "/api/v1/items/{code}/receive": {
                "post": _op(
                    "Intake: measured mass, dimensions, and the complete set of photos "
                    "(multipart), or the reason none could be taken",
                    "inspector",
                    {
                        **_ok("200", _ref("Item"), "received"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body={
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["mass_g"],
                                    "properties": {
                                        "mass_g": {
                                            "oneOf": [{"type": "number"}, {"type": "string"}]
                                        },
                                        "dimensions": DIMENSIONS,
                                        **NO_PHOTO,
                                    },
                                }
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["mass_g"],
                                    "properties": {
                                        "mass_g": {"type": "string"},
                                        **{
                                            field: {
                                                "type": "string",
                                                "contentMediaType": "image/jpeg",
                                                "description": f"the {view} view",
                                            }
                                            for view, field in PHOTO_FIELDS.items()
                                        },
                                        "dimensions": {
                                            "type": "string",
                                            "description": "JSON text: " + DIMENSIONS_TEXT,
                                        },
                                        **NO_PHOTO,
                                    },
                                }
                            },
                        },
                    },
                    params=[code, idempotency],
                )
            },
            "/api/v1/items/{code}/inspections": {
                "post": _op(
                    "Record measurements; the rules engine names the material and judges",
                    "analyst, reviewer",
                    {
                        **_ok("201", _ref("Inspection"), "recorded"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(
                        {"type": "object", "properties": {"measurements": _ref("Measurements")}}
                    ),
                    params=[code],
                )
            },
            "/api/v1/inspections/{inspection_id}/approve": {
                "post": _op(
                    "Four-eyes approval",
                    "reviewer who is not the analyst",
                    {**_ok("200", _ref("Inspection"), "approved"), **_errors(401, 403, 404, 409)},
                    params=[inspection_id],
                )
            },
            "/api/v1/inspections/{inspection_id}/reject": {
                "post": _op(
                    "Send the result back for a retest, with a note",
                    "reviewer",
                    {
                        **_ok("200", _ref("Inspection"), "sent back"),
                        **_errors(401, 403, 404, 409, 422),
                    },
                    body=_body(
                        {
                            "type": "object",
                            "required": ["note"],
                            "properties": {"note": {"type": "string", "minLength": 1}},
                        }
                    ),
                    params=[inspection_id],
                )
            },
            "/api/v1/items/{code}/certificate": {
                "post": _op(
                    "Issue the signed certificate",
                    "inspector",
                    {
                        **_ok("201", _ref("Issued"), "issued"),
                        **_queued(),
                        **_errors(401, 403, 404, 409),
                    },
                    params=[code],
                )
            },
            "/api/v1/jobs/{job_id}": {
                "get": _op(
                    "A queued issue or reissue: pending, running, done with the certificate, "
                    "or failed with the error",
                    "whoever asked for it, or staff of a role that could have",
                    {**_ok("200", _ref("Job"), "the job"), **_errors(401, 404)},
                    params=[_path("job_id", "^[0-9a-f]{32}$")],
                )
            },
            "/api/v1/certificates/{number}": {
                "get": _op(
                    "Status, signed payload, signature, key id",
                    "anyone",
                    {**_ok("200", _ref("Certificate"), "the certificate"), **_errors(404, 429)},
                    params=[number],
                    secured=False,
                )
            },
            "/api/v1/certificates/{number}/pdf": {
                "get": _op(
                    "The certificate PDF",
                    "owner merchant, staff",
                    {
                        "200": {"description": "PDF", "content": {"application/pdf": {}}},
                        **_errors(401, 403, 404),
                    },
                    params=[number],
                )
            },
            "/api/v1/certificates/{number}/revoke": {
                "post": _op(
                    "Revoke with a reason",
                    "admin",
                    {
                        **_ok("200", _ref("Certificate"), "revoked"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(reason),
                    params=[number],
                )
            },
            "/api/v1/certificates/{number}/reissue": {
                "post": _op(
                    "Reissue: revoke with a reason and issue a replacement from the same "
                    "approved result; the old certificate then points to the new one "
                    "(superseded_by) and the consumer page says so",
                    "admin",
                    {
                        **_ok("201", _ref("Reissued"), "the replacement"),
                        **_queued(),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(reason),
                    params=[number],
                )
            },
            "/api/v1/orders": {
                "post": _op(
                    "Create an order (from the platform)",
                    "admin",
                    {
                        **_ok("201", _ref("Order"), "created"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(_ref("OrderIn")),
                )
            },
            "/api/v1/orders/{order_no}": {
                "get": _op(
                    "An order: state, bound item, seal, cancellation reason",
                    "owner merchant, inspector, admin",
                    {**_ok("200", _ref("Order"), "the order"), **_errors(401, 403, 404)},
                    params=[_path("order_no")],
                )
            },
            "/api/v1/packing": {
                "post": _op(
                    "Pack: waybill + item + certificate QR + seal must belong together, and a "
                    "seal closes one parcel only; the packing mass must match intake and lab "
                    "(else 409 mass_drift, alarm)",
                    "inspector",
                    {
                        **_ok("200", _ref("Order"), "packed"),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                    body=_body(
                        {
                            "type": "object",
                            "required": [
                                "waybill_no",
                                "item_code",
                                "certificate",
                                "seal_no",
                                "mass_g",
                            ],
                            "properties": {
                                "waybill_no": {"type": "string"},
                                "item_code": {"type": "string"},
                                "certificate": {"type": "string"},
                                "seal_no": {"type": "string"},
                                "mass_g": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                            },
                        }
                    ),
                    params=[idempotency],
                )
            },
            "/api/v1/orders/{waybill_no}/ship": {
                "post": _op(
                    "Ship a packed order",
                    "inspector",
                    {**_ok("200", _ref("Order"), "shipped"), **_errors(401, 403, 404, 409)},
                    params=[_path("waybill_no")],
                )
            },
            **_claim_paths(),
            **_event_paths(),
        },
    }
