"""Issue 18: no raw key reaches a page. Every role walks every page it can reach (each GET
route of the url_map, with rows in every state from the `world` and `flow` fixtures), in
Chinese and in English, and the text people read is scanned for the keys the app knows:
enum values, transition and audit action names, material codes, rule field names, and any
snake_case word. A page printing one fails with the page and the key."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlmodel import Session

from qc_app.authz import Role
from qc_app.certificates.batches import BatchState
from qc_app.certificates.models import CertificateStatus
from qc_app.certificates.revocation import revoke
from qc_app.certificates.workflow import MACHINE as CERTIFICATES
from qc_app.claims import services as claims
from qc_app.claims.models import ClaimReason, RejectionGround
from qc_app.claims.workflow import MACHINE as CLAIMS
from qc_app.claims.workflow import ClaimState
from qc_app.errors import Conflict
from qc_app.inspection.workflow import MACHINE as INSPECTIONS
from qc_app.inspection.workflow import InspectionState
from qc_app.items.workflow import MACHINE as ITEMS
from qc_app.items.workflow import ItemState
from qc_app.orders.services import create_order, pack
from qc_app.orders.workflow import MACHINE as ORDERS
from qc_app.orders.workflow import OrderState
from qc_app.programmes.coverage import Gap
from qc_app.rules.engine import load_ruleset
from qc_app.sqltypes import utcnow
from qc_app.verification.services import Verdict
from tests.claims_support import accept, file, sell
from tests.conftest import Flow, World
from tests.web.helpers import login, qr_path

pytestmark = pytest.mark.usefixtures("cjk_font_path")

ENUMS = (
    ItemState,
    InspectionState,
    OrderState,
    ClaimState,
    ClaimReason,
    RejectionGround,
    CertificateStatus,
    BatchState,
    Verdict,
    Gap,
    Role,
)
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def raw_keys() -> frozenset[str]:
    rules = load_ruleset()
    keys = {str(value) for enum in ENUMS for value in enum} | {"pass", "fail"}
    keys |= {
        name
        for machine in (ITEMS, INSPECTIONS, ORDERS, CLAIMS, CERTIFICATES)
        for name in machine.transitions
    }
    keys |= set(rules.declarations) | set(rules.families) | set(rules.species)
    keys |= {field for family in rules.families for field in rules.fields(family)}
    return frozenset(keys)


def english_words() -> frozenset[str]:
    """Words of the English catalogue and of the rules' English names: "revoked" in an English
    sentence, "sapphire" in "Treated sapphire", are not raw keys (the Chinese page, rendered by
    the same template, shows whether the key leaks)."""
    path = "qc_app/translations/en/LC_MESSAGES/messages.po"
    with open(path, "rb") as f:
        catalog = read_po(f, locale="en")
    texts = [m.string if isinstance(m.string, str) else " ".join(m.string) for m in catalog]
    rules = load_ruleset()
    texts += [spec["name_en"] for spec in rules.declarations.values()]
    texts += [spec["label_en"] for spec in rules.raw["fields"].values()]
    return frozenset(w for text in texts for w in WORD.findall(text))


class PageText(HTMLParser):
    """The text a person reads (no script, style, or attribute) and the links to follow. A
    <code> element is what someone types as it is (a CSV file's column names): not read."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def found_keys(html: str, keys: frozenset[str], allowed: frozenset[str]) -> set[str]:
    parser = PageText()
    parser.feed(html)
    words = {w for chunk in parser.text for w in WORD.findall(chunk)}
    return {w for w in words if (w in keys or SNAKE.match(w)) and w not in allowed}


def links_of(html: str) -> Iterator[str]:
    parser = PageText()
    parser.feed(html)
    for href in parser.links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if "lang=" in parts.query:
            continue
        yield f"{parts.path}?{parts.query}" if parts.query else parts.path


def every_state(flow: Flow, world: World, db: Session) -> tuple[str, str]:
    """Rows in every state the pages list; returns the consumer's QR path of a sold item and
    the code of an item waiting at intake (its weighing page opens on a scan)."""
    now = utcnow()
    waiting = flow.declare(material="JADEITE")
    flow.receive(flow.declare(material="AU750"))
    in_review = flow.declare(material="AU750")
    flow.receive(in_review)
    flow.inspect(in_review)
    flow.approved(1)
    sold = sell(flow)
    upheld = sell(flow, delivered_at=now - timedelta(days=1))
    filed = file(flow, upheld)
    accept(flow, filed.claim.number)
    claims.decide(
        session=db,
        actor=world["admin1"],
        number=filed.claim.number,
        uphold=True,
        note="",
        now=utcnow(),
    )
    file(flow, sold)
    _, revoked = flow.certified()
    revoke(
        session=db,
        actor=world["admin1"],
        number=revoked.certificate.number,
        reason="测试吊销",
        now=utcnow(),
    )
    drifted, issued = flow.certified()
    order = create_order(
        session=db,
        actor=world["admin1"],
        order_no="ORD-DRIFT",
        listing_id=world.listing_gold.id,
        price_paid_fen=100000,
        waybill_no="SF-DRIFT",
        now=utcnow(),
    )
    with pytest.raises(Conflict):
        pack(
            session=db,
            actor=world["inspector1"],
            waybill_no=order.waybill_no,
            item_code=drifted.code,
            certificate_scan=issued.certificate.number,
            seal_no="SEAL-DRIFT",
            mass_g="9.99",
            now=utcnow(),
        )
    return qr_path(sell(flow)), waiting.code  # a sold item not yet claimed: its claim form


def walk(app: Flask, username: str | None, lang: str, start: list[str]) -> dict[str, Any]:
    """Every page reachable from `start` by the links a person sees: {url: response}."""
    client = app.test_client()
    if username:
        login(client, username)
    client.get(f"/?lang={lang}")
    seen: dict[str, Any] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        if url in seen or len(seen) > 400:
            continue
        response = client.get(url)
        seen[url] = response
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
        elif response.mimetype == "text/html":
            queue.extend(links_of(response.get_data(as_text=True)))
    return seen


ROLES = (None, "merchant1", "inspector1", "analyst1", "reviewer1", "admin1")


def test_no_page_of_any_role_shows_a_raw_key(
    app: Flask, db: Session, world: World, flow: Flow
) -> None:
    consumer, waiting = every_state(flow, world, db)
    # The lists filtered (each state and material named in words, a refused date said in words).
    filtered = {
        "admin1": [
            "/admin/certificates?state=revoked&material=AU750",
            "/admin/orders?state=cancelled&from=2025-01-01",
            "/claims?state=upheld",
            "/admin/users?state=reviewer",
            "/admin/listings?material=JADEITE&from=bad",
        ],
        "merchant1": ["/m/listings?material=AU990", "/claims?to=2025-02-30"],
        "inspector1": ["/certify?material=AU750", "/returns?from=x"],
        "analyst1": ["/lab?state=in_inspection"],
    }
    extra = {None: ["/login"], "inspector1": [f"/intake/{waiting}"]}
    for username, urls in filtered.items():
        extra[username] = [*extra.get(username, []), *urls]
    keys = raw_keys()
    allowed = {"zh": frozenset[str](), "en": english_words()}
    problems = []
    visited: set[str] = set()
    for username in ROLES:
        for lang in ("zh", "en"):
            start = ["/", "/verify", consumer, *extra.get(username, [])]
            for url, response in walk(app, username, lang, start).items():
                visited.add(app.url_map.bind("localhost").match(urlsplit(url).path)[0])
                if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
                    continue
                html = response.get_data(as_text=True)
                for key in found_keys(html, keys, allowed[lang]):
                    problems.append(f"{username or 'consumer'} {lang} {url}: {key}")
                if "¥¥" in html:  # an amount formatted twice (issue 18)
                    problems.append(f"{username or 'consumer'} {lang} {url}: ¥¥")
    assert not problems, "\n".join(sorted(problems))
    get_routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.rule.startswith(("/api/", "/static"))
    }
    assert visited >= get_routes - NOT_LINKED, "\n".join(sorted(get_routes - NOT_LINKED - visited))


# GET routes the walk does not reach, each with the reason (none is a page of its own state).
NOT_LINKED = {
    "auth.enrol",  # steps in the middle of a login (tests/web/test_staff_accounts.py)
    "auth.second_factor",
    "certificates.batch_page",  # only while a batch is issued (tests/browser/test_batch_page.py)
    "certificates.batch_status",
    "certificates.job_page",  # follows an issue or reissue POST (test_certificate_pages.py)
    "verification.photo",  # an <img>, not a link
    "verification.proof_photo",  # the signed intake set's <img>s (test_intake_proof.py)
    "verification.jwks_document",  # JSON for verifiers
    "favicon",  # the tab's icon
    "ops.healthz",  # for the operator's monitoring, not people (tests/web/test_operations.py)
    "ops.readyz",
    "ops.scrape",
}
