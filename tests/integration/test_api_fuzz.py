"""Hostile requests to every operation of /api/v1/openapi.json (security.md §8 checks 16 and
39): JSON nested thousands deep, NUL and lone surrogates in text and keys, numbers such as 1e400
and 1e300000, wrong types; as the body, in one field of an otherwise valid body, in the path, in
CSV and multipart where the operation takes them. Never a 5xx, never a trace.

A sweep puts every hostile value into every field, CSV column and path parameter of every
operation once, with the token of a role the operation admits. Hypothesis then explores
combinations with any role's token or none (QC_FUZZ_EXAMPLES requests, default 300).
Schemathesis (test_api_schemathesis.py) checks the document's contract; these check what lies
outside it."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from qc_app.certificates.batches import BATCH
from qc_app.certificates.tasks import ISSUE
from qc_app.claims import services as claims
from qc_app.inspection.models import Inspection
from qc_app.intake.models import Consignment
from qc_app.jobs.services import create_job
from qc_app.orders.services import create_order
from qc_app.sqltypes import utcnow
from tests.claims_support import sell
from tests.conftest import Flow, jpeg_bytes, stored_files

EXAMPLES = int(os.environ.get("QC_FUZZ_EXAMPLES", "300"))
USERS = {
    "merchant": ["merchant1", "merchant2"],
    "inspector": ["inspector1"],
    "analyst": ["analyst1"],
    "reviewer": ["reviewer1", "reviewer2"],
    "admin": ["admin1"],
}
EVERYONE = [None, *(u for users in USERS.values() for u in users)]
LEAK = re.compile(rb"Traceback|File \"|site-packages|/work/|\.py\", line")


class Raw(str):
    """JSON text written as it is: numbers json.dumps cannot spell, and deep nesting."""


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)  # ASCII: a lone surrogate travels as \ud800


NUMBERS = [
    Raw(t)
    for t in (
        "1e400",
        "-1e400",
        "1e300000",
        "1E-300000",
        "0E+999999999",
        "2147483648",
        "9223372036854775808",
        "123456789012345678901234567890.5",
        "1" + "0" * 5000,
        "1." + "1" * 5000,
    )
]
NESTED = [Raw("[" * n + "]" * n) for n in (33, 3_000, 100_000)] + [
    Raw('{"a":' * 2_000 + "1" + "}" * 2_000)
]
TEXTS = [
    "",
    " ",
    "\ud800",
    "\udfff tail",
    "a\x00b",
    "1e300000",
    "NaN",
    "²",
    "１２.５",
    "x" * 5_000,
    "<script>alert(1)</script>",
    "SJ0000000",
    "\u202e\u0301",
]
# Every kind at least once in the sweep: numbers, nesting, text, and the wrong JSON types.
HOSTILE: list[Any] = [
    *NUMBERS[:3],
    NUMBERS[8],
    NESTED[2],
    "\ud800",
    "a\x00b",
    "1e300000",
    10**30,
    -1,
    None,
    True,
    [],
    {"a": ["b"]},
]
PATH_VALUES = ["0", "-1", "2147483648", "9" * 30, "\ud800", "a\x00", " ", "%", "1e400"]
scalars = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(NESTED),
    st.sampled_from(TEXTS),
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)


def values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=8,
    )


@dataclass
class Target:
    """The API as documented, what the database holds for its path parameters, and a valid
    body per operation to spoil one field at a time."""

    operations: list[tuple[str, str, dict[str, Any]]]
    keys: list[str]
    users: dict[tuple[str, str], list[str]]
    paths: dict[str, list[str]]
    bodies: dict[str, dict[str, Any]]
    tokens: dict[str, dict[str, str]]

    def url(self, path: str, chosen: dict[str, str] | None = None) -> str:
        for name in re.findall(r"\{([^}]+)\}", path):
            raw = (chosen or {}).get(name, self.paths[name][0])
            path = path.replace(f"{{{name}}}", quote(raw.encode("utf-8", "surrogatepass"), safe=""))
        return path

    def headers(self, user: str | None) -> dict[str, str]:
        return dict(self.tokens[user]) if user else {}


def documented(app: Flask) -> tuple[list[tuple[str, str, dict[str, Any]]], list[str]]:
    """(method, path, operation) for every operation, and every property name in the document."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    keys: set[str] = {"photo"}
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                keys.update(node["properties"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return operations, sorted(keys)


def admitted(app: Flask, method: str, path: str) -> list[str]:
    """The world's users whose role the operation's view admits."""
    endpoint, _ = app.url_map.bind("localhost").match(re.sub(r"\{[^}]+\}", "1", path), method)
    roles = getattr(app.view_functions[endpoint], "qc_roles", ())
    return [user for role in roles for user in USERS.get(role, [])]


@pytest.fixture
def target(app: Flask, flow: Flow, token: Any, cjk_font_path: Any) -> Target:
    world, db = flow.world, flow.db
    sold = sell(flow)
    filed = claims.file_claim(
        session=db,
        certificate=sold.issued.certificate,
        order_no=sold.order.order_no,
        reason="brand",
        description="专柜说不是该品牌",
        postage_fen="800",
        uploads=[jpeg_bytes()],
        files=stored_files(app),
        now=utcnow(),
    )
    declared, received, inspected = flow.declare(), flow.declare(), flow.declare()
    flow.receive(received)
    flow.receive(inspected)
    pending = flow.inspect(inspected)
    certified, issued = flow.certified()
    order = create_order(
        session=db,
        actor=world["admin1"],
        order_no="DY-FUZZ",
        listing_id=world.listing_gold.id,
        price_paid_fen=328000,
        waybill_no="SF-FUZZ",
        now=utcnow(),
    )
    job = create_job(
        session=db, actor=world["inspector1"], kind=ISSUE, params={"code": certified.code},
        guard=BATCH, now=utcnow(),
    )  # fmt: skip
    operations, keys = documented(app)
    return Target(
        operations=operations,
        keys=keys,
        users={(m, p): admitted(app, m, p) for m, p, _ in operations},
        paths={
            "code": [
                received.code,
                declared.code,
                inspected.code,
                certified.code,
                sold.item.code,
                db.get_one(Consignment, declared.consignment_id).code,
            ],
            "number": [issued.certificate.number, sold.number, filed.claim.number],
            "inspection_id": [str(pending.id), *(str(i) for i in db.exec(select(Inspection.id)))],
            "listing_id": [str(world.listing_gold.id), str(world.listing_b.id)],
            "waybill_no": [order.waybill_no, sold.order.waybill_no],
            "order_no": [order.order_no, sold.order.order_no],
            "job_id": [job.id],
            "subscription_id": ["1", "2"],
        },
        bodies={
            "/api/v1/listings": {
                "title": "足金戒指",
                "brand": "金福",
                "material_code": "AU990",
                "price_fen": 328000,
            },
            "/api/v1/consignments": {
                "items": [
                    {
                        "listing_id": world.listing_gold.id,
                        "mass_g": "5.02",
                        "declared_material": "AU990",
                        "price_fen": 328000,
                        "description": "戒指",
                        "order_no": order.order_no,
                    }
                ]
            },
            "/api/v1/items/{code}/receive": {"mass_g": "5.03", "no_photo_reason": "camera_fault"},
            "/api/v1/items/{code}/inspections": {
                "measurements": {"mass_g": "5.03", "fineness_permille": "999.2", "metal": "Au"}
            },
            "/api/v1/inspections/{inspection_id}/reject": {"note": "复核"},
            "/api/v1/certificates/{number}/revoke": {"reason": "测试"},
            "/api/v1/certificates/{number}/reissue": {"reason": "测试"},
            "/api/v1/orders": {
                "order_no": "DY-NEW",
                "listing_id": world.listing_gold.id,
                "price_paid_fen": 328000,
                "waybill_no": "SF-NEW",
                "item_code": certified.code,
            },
            "/api/v1/packing": {
                "waybill_no": order.waybill_no,
                "item_code": certified.code,
                "certificate": issued.certificate.number,
                "seal_no": "SEAL-F",
                "mass_g": "5.03",
            },
            "/api/v1/listings/{listing_id}/labels": {"authentic": True, "guarantee": False},
            "/api/v1/claims/{number}/decision": {
                "decision": "uphold",
                "postage_fen": 800,
                "ground": "item_swapped",
                "note": "裁定",
            },
        },
        tokens={user: token(user) for user in EVERYONE if user},
    )


def holders(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body and the objects nested in it (a consignment's item, the measurements)."""
    nested = [v for v in body.values() if isinstance(v, dict)]
    nested += [v[0] for v in body.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    return [body, *nested]


def copy(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(body))  # type: ignore[no-any-return]


def json_request(method: str, url: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
    return dict(
        method=method,
        path=url,
        headers=headers,
        data=dump(body).encode("utf-8", "surrogatepass"),
        content_type="application/json",
    )


CSV_HEADER = "listing_id,declared_material,mass_g,price_yuan,price_fen,description"


def csv_request(method: str, url: str, headers: dict[str, str], rows: list[list[str]]) -> Any:
    text = "\n".join([CSV_HEADER, *(",".join(row) for row in rows)])
    data = text.encode("utf-8", "surrogatepass")
    return dict(method=method, path=url, headers=headers, data=data, content_type="text/csv")


def assert_handled(client: Any, request: dict[str, Any]) -> None:
    response = client.open(**request)
    data = response.get_data()  # a PDF or a label too: searched as bytes
    assert response.status_code < 500, (request["method"], request["path"], data[:300])
    assert not LEAK.search(data), (request["method"], request["path"], data[:300])


def sweep(target: Target) -> Iterator[dict[str, Any]]:
    for method, path, op in target.operations:
        users = target.users[(method, path)]
        headers = target.headers(users[0] if users else None)
        for name in re.findall(r"\{([^}]+)\}", path):
            # A real code with a newline is found (lookups normalise) and then goes further.
            odd = [f"{v}{c}" for v in target.paths[name] for c in ("\n", "\t", '"')]
            for raw in (*PATH_VALUES, *odd):
                yield dict(method=method, path=target.url(path, {name: raw}), headers=headers)
        if method != "POST":
            continue
        url = target.url(path)
        for whole in (*NESTED, Raw("1e400"), "\ud800", []):
            yield json_request(method, url, headers, whole)
        if "text/csv" in op.get("requestBody", {}).get("content", {}):
            valid = [target.paths["listing_id"][0], "AU990", "5.02", "3280", "", "戒指"]
            for column in range(len(valid)):
                for text in (*TEXTS, *map(str, NUMBERS)):
                    row = [*valid[:column], text, *valid[column + 1 :]]
                    yield csv_request(method, url, headers, [row])
        template = target.bodies.get(path)
        for index, holder in enumerate(holders(template) if template else []):
            for key in holder:
                for value in HOSTILE:
                    body = copy(template)  # type: ignore[arg-type]
                    holders(body)[index][key] = value
                    yield json_request(method, url, headers, body)


def test_every_hostile_value_in_every_field_is_a_4xx(app: Flask, target: Target) -> None:
    client = app.test_client()
    sent = 0
    for request in sweep(target):
        assert_handled(client, request)
        sent += 1
    assert len(target.operations) >= 25 and sent > 500


@st.composite
def requests(draw: Any, target: Target) -> dict[str, Any]:
    method, path, op = draw(st.sampled_from(target.operations))
    keys = (
        st.sampled_from(target.keys)
        | st.sampled_from(["\ud800", "a\x00", ""])
        | st.text(max_size=6)
    )
    admitted = target.users[(method, path)]
    mostly_admitted = admitted and draw(st.integers(0, 9)) < 7
    user = draw(st.sampled_from(admitted if mostly_admitted else EVERYONE))
    chosen = {
        name: draw(
            st.sampled_from(target.paths[name])
            | st.sampled_from(PATH_VALUES)
            | st.text(min_size=1, max_size=12)
        )
        for name in re.findall(r"\{([^}]+)\}", path)
    }
    url, headers = target.url(path, chosen), target.headers(user)
    key = draw(st.sampled_from([None, None, "retry-1", "x" * 81, "\t"]))
    if key is not None:
        headers["Idempotency-Key"] = key
    content = op.get("requestBody", {}).get("content", {})
    kind = draw(st.sampled_from(["json", "json", "json", *sorted(content)]))
    if kind == "text/csv":
        cells = st.sampled_from([*TEXTS, *target.paths["listing_id"], "5.02", "AU990"])
        rows = draw(st.lists(st.lists(cells | st.sampled_from(NUMBERS), max_size=7), max_size=4))
        return csv_request(method, url, headers, rows)
    if kind == "multipart/form-data":
        encodable = [t for t in TEXTS if not re.search("[\ud800-\udfff]", t)]
        field = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
        form = draw(
            st.dictionaries(
                st.sampled_from(target.keys), field | st.sampled_from(encodable), max_size=6
            )
        )
        if draw(st.booleans()):
            photo = draw(st.sampled_from([jpeg_bytes(), b"GIF89a", b""]))
            form["photo"] = (io.BytesIO(photo), "p.jpg")
        return dict(
            method=method, path=url, headers=headers, data=form, content_type="multipart/form-data"
        )
    template = target.bodies.get(path)
    shape = draw(st.integers(0, 9))
    if template is not None and shape < 6:
        body: Any = copy(template)
        holder = draw(st.sampled_from(holders(body)))
        key = draw(st.sampled_from(sorted(holder)) | keys)
        holder[key] = draw(values(keys))
    elif shape < 8:
        body = draw(st.dictionaries(keys, values(keys), max_size=6))
    else:
        body = draw(values(keys))
    request = json_request(method, url, headers, body)
    if draw(st.integers(0, 19)) == 0:
        request["data"] = request["data"][: len(request["data"]) // 2] + b"\xff\xfe"
    request["content_type"] = draw(st.sampled_from(["application/json"] * 8 + ["text/plain"]))
    return request


@pytest.mark.filterwarnings("ignore")  # hypothesis internals warn; the assertions decide
def test_no_generated_request_gets_a_5xx_or_a_trace(app: Flask, target: Target) -> None:
    client = app.test_client()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests(target))
    def run(request: dict[str, Any]) -> None:
        assert_handled(client, request)

    run()
