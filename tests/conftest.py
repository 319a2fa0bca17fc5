"""Fixtures: a fresh, migrated database per test (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), real services, and factories with sensible defaults."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from qc_app import create_app
from qc_app.auth import passwords
from qc_app.auth.models import User
from qc_app.auth.services import create_token, create_user
from qc_app.certificates.issuance import IssuingSetup, issue_certificate
from qc_app.certificates.keys import ensure_signing_key
from qc_app.config import Config
from qc_app.db import engine_of, make_engine, new_session, write
from qc_app.inspection.models import TestingBody
from qc_app.inspection.services import approve, record_inspection
from qc_app.intake.services import consignment_items, create_consignment, receive_item
from qc_app.items.models import Item
from qc_app.listings.models import Listing
from qc_app.listings.services import create_listing
from qc_app.merchants.models import Merchant
from qc_app.migrate import upgrade
from qc_app.sqltypes import utcnow

PASSWORD = "test-password-123"
PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """argon2id with small parameters in tests; test_passwords checks the production ones."""
    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


def _admin_engine() -> Engine:
    assert PG_URL
    return create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The schema, migrated once per run: a SQLite file, or a PostgreSQL template database.
    Each test starts from a copy of it (a fresh database of its own, as before, without paying
    for the migrations again)."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)
        return
    name = f"qc_template_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{PG_URL.rsplit('/', 1)[0]}/{name}")
    upgrade(engine)
    engine.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _database_url(tmp_path: Path, template: str | None) -> Iterator[str]:
    """A database of the test's own: a copy of the template, or empty (template None)."""
    if not PG_URL:
        path = tmp_path / "test.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"qc_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        clone = f' TEMPLATE "{template}"' if template is not None else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clone}'))
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path, _migrated_template: str) -> Iterator[str]:
    """A migrated database of the test's own."""
    yield from _database_url(tmp_path, _migrated_template)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own, for tests of the migrations themselves."""
    yield from _database_url(tmp_path, None)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    config = Config.for_tests(tmp_path / "instance", database_url, RATELIMIT_ENABLED=False)
    app = create_app(config)
    # No app context stays pushed: each test request gets its own, as in production
    # (a shared one would share `g`, and with it CSRF tokens and DB sessions, across requests).
    yield app
    engine_of(app).dispose()
    app.extensions["qc_counter_engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    session = new_session(engine_of(app))
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@dataclass
class World:
    """Two shops, one accredited lab, and one account per role (two reviewers for four-eyes)."""

    merchant_a: Merchant
    merchant_b: Merchant
    lab: TestingBody
    users: dict[str, User]
    listing_gold: Listing
    listing_b: Listing

    def __getitem__(self, username: str) -> User:
        return self.users[username]


@pytest.fixture
def world(app: Flask, db: Session) -> World:
    now = utcnow()
    with write(db):
        a = Merchant(name="甲店 Shop A", licence_no="L-A", created_at=now)
        b = Merchant(name="乙店 Shop B", licence_no="L-B", created_at=now)
        lab = TestingBody(
            code="GTC",
            name_zh="测试检测中心",
            name_en="Test Gem Lab",
            cma_no="CMA-TEST-1",
            cnas_no="CNAS-L1",
            cert_prefix="GTC",
            accredited_until=date(2099, 12, 31),
        )
        db.add_all([a, b, lab])
    people = {
        "merchant1": ("merchant", a.id, None),
        "merchant2": ("merchant", b.id, None),
        "inspector1": ("inspector", None, None),
        "analyst1": ("analyst", None, lab.id),
        "reviewer1": ("reviewer", None, lab.id),
        "reviewer2": ("reviewer", None, lab.id),
        "admin1": ("admin", None, None),
    }
    users = {
        name: create_user(
            session=db,
            actor=None,
            username=name,
            password=PASSWORD,
            role=role,
            display_name=name.title(),
            merchant_id=mid,
            testing_body_id=bid,
            now=now,
        )
        for name, (role, mid, bid) in people.items()
    }
    ensure_signing_key(session=db, passphrase=app.config["QC"].KEY_PASSPHRASE, now=now)
    gold = create_listing(
        session=db,
        actor=users["merchant1"],
        title="足金戒指",
        brand="金福",
        material_code="AU990",
        price_fen=328000,
        now=now,
    )
    other = create_listing(
        session=db,
        actor=users["merchant2"],
        title="足金手镯",
        brand="乙",
        material_code="AU990",
        price_fen=988000,
        now=now,
    )
    return World(a, b, lab, users, gold, other)


def jpeg_bytes(
    size: tuple[int, int] = (320, 240),
    colour: tuple[int, int, int] = (200, 160, 60),
    exif_gps: bool = False,
) -> bytes:
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (22.0, 32.0, 0.0)}
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def stored_pdfs(app: Flask) -> set[str]:
    """The digests of the certificate PDFs on disk."""
    root = app.config["QC"].INSTANCE_PATH / "certificates"
    return {path.stem for path in root.glob("*/*.pdf")}


# What an attacker uploads where a photo is expected (security.md §8 check 19): each would run
# its script if a browser ever rendered it as a page of ours.
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
SVG_IMAGE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
    b"<script>alert(document.domain)</script></svg>"
)
HTML_IN_JPEG = b"<html><body><script>alert(document.domain)</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A JPEG that decodes, carrying an HTML page in a comment segment and after its end: a
    browser that sniffed it as HTML would run the script."""
    jpeg = jpeg_bytes()
    comment = b"\xff\xfe" + (len(HTML_IN_JPEG) + 2).to_bytes(2, "big") + HTML_IN_JPEG
    return jpeg[:2] + comment + jpeg[2:] + HTML_IN_JPEG


def issuing_setup(app: Flask) -> IssuingSetup:
    return IssuingSetup.from_config(app.config["QC"])


class Flow:
    """Moves items through the lifecycle with the real services, one step at a time."""

    def __init__(self, app: Flask, db: Session, world: World) -> None:
        self.app, self.db, self.world = app, db, world

    def declare(
        self,
        *,
        listing: Listing | None = None,
        mass_g: str = "5.02",
        material: str | None = None,
        merchant: str = "merchant1",
    ) -> Item:
        spec: dict[str, Any] = {
            "listing_id": (listing or self.world.listing_gold).id,
            "mass_g": mass_g,
        }
        if material:
            spec["declared_material"] = material
        consignment = create_consignment(
            session=self.db, actor=self.world[merchant], items=[spec], now=utcnow()
        )
        return consignment_items(session=self.db, consignment=consignment)[0]

    def receive(self, item: Item, mass_g: str = "5.03", photo: bool = True) -> Item:
        return receive_item(
            session=self.db,
            actor=self.world["inspector1"],
            code=item.code,
            mass_g=mass_g,
            photo=jpeg_bytes() if photo else None,
            files=self.app.config["QC"].INSTANCE_PATH,
            now=utcnow(),
        )

    def inspect(
        self,
        item: Item,
        fineness: str = "999.2",
        mass_g: str = "5.03",
        analyst: str = "analyst1",
        metal: str = "Au",
    ) -> Any:
        return record_inspection(
            session=self.db,
            actor=self.world[analyst],
            code=item.code,
            raw={"mass_g": Decimal(mass_g), "fineness_permille": fineness, "metal": metal},
            now=utcnow(),
        )

    def approve(self, inspection: Any, reviewer: str = "reviewer1") -> Any:
        return approve(
            session=self.db, actor=self.world[reviewer], inspection_id=inspection.id, now=utcnow()
        )

    def certify(self, item: Item) -> Any:
        return issue_certificate(
            session=self.db,
            actor=self.world["inspector1"],
            code=item.code,
            setup=issuing_setup(self.app),
            now=utcnow(),
        )

    def approved(self, count: int) -> list[Item]:
        """Items reviewed and approved, awaiting their certificates."""
        items = []
        for _ in range(count):
            item = self.declare()
            self.receive(item)
            self.approve(self.inspect(item))
            items.append(item)
        return items

    def certified(self, **declare: Any) -> tuple[Item, Any]:
        item = self.declare(**declare)
        self.receive(item)
        self.approve(self.inspect(item))
        return item, self.certify(item)


@pytest.fixture
def flow(app: Flask, db: Session, world: World) -> Flow:
    return Flow(app, db, world)


@pytest.fixture
def token(db: Session, world: World) -> Any:
    def make(username: str) -> dict[str, str]:
        value = create_token(session=db, username=username, now=utcnow())
        return {"Authorization": f"Bearer {value}"}

    return make


@pytest.fixture(scope="session")
def cjk_font_path() -> Path:
    from qc_app.certificates.fonts import FontMissing, find_cjk_font

    try:
        return find_cjk_font(os.environ.get("QC_CJK_FONT"))
    except FontMissing:
        pytest.skip("CJK font missing: install Debian's fonts-wqy-microhei")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """CI sets QC_FORBID_SKIPS: there every system part is installed, so a skip is a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("QC_FORBID_SKIPS") and skipped:
        reporter.write_line(
            f"QC_FORBID_SKIPS: {skipped} test(s) skipped; failing the run", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
