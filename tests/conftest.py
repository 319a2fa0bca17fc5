"""Fixtures: a migrated database per test in the state a fresh one has (a copy of a SQLite
template file, or on PostgreSQL when TEST_DATABASE_URL is set, the test process's database
emptied back to the template's rows), real services, and factories with sensible defaults.
Every session fixture is per test process, so the suite runs under pytest-xdist."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from botocore.exceptions import EndpointConnectionError
from flask import Flask
from jinja2 import BytecodeCache, FileSystemBytecodeCache
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from qc_app import create_app
from qc_app.auth import passwords
from qc_app.auth.models import User
from qc_app.auth.second_factor import new_secret
from qc_app.auth.services import (
    create_token,
    create_user,
    needs_second_factor,
    provision_second_factor,
)
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
from qc_app.storage import S3Credentials, Storage, s3_client
from tests.auth_support import TOTP
from tests.queue_support import WebTier, make_web_tier

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


def _pg_url(name: str) -> str:
    assert PG_URL
    return f"{PG_URL.rsplit('/', 1)[0]}/{name}"


def _create_pg_database(admin: Engine, template: str | None = None) -> str:
    name = f"qc_test_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template is not None else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clone}'))
        # A commit need not wait for the disk: a test database never outlives a server crash,
        # and what other connections see once a commit has returned is the same either way.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    return name


def _drop_pg_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# What makes two PostgreSQL schemas the same to the application: tables, columns, defaults,
# constraints, indexes, triggers (on or off) and functions. A test may migrate its database
# down, or turn the audit log's trigger off to forge events.
_SCHEMA_DIGEST = """
SELECT md5(string_agg(part, E'\\n' ORDER BY part)) FROM (
  SELECT format('%s %s', relname, relkind) AS part FROM pg_class
   WHERE relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('%s.%s %s %s %s', a.attrelid::regclass, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT format('%s %s', pg_get_triggerdef(oid), tgenabled) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT format('%s %s', proname, md5(prosrc)) FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
) AS schema
"""


class _PostgresDatabase:
    """A migrated PostgreSQL database for one test process, put back after each test into
    exactly the state of the template it was cloned from: the rows the migrations wrote, the
    sequence positions, the schema. Emptying its small tables takes milliseconds where
    `CREATE DATABASE … TEMPLATE` took about a second a test. After a test that changed the
    schema, a new clone replaces it rather than a repair."""

    def __init__(self, admin: Engine, template: str) -> None:
        self.admin, self.template = admin, template
        self._clone()

    def _clone(self) -> None:
        self.name = _create_pg_database(self.admin, self.template)
        self.url = _pg_url(self.name)
        self.conn = psycopg.connect(self.url, autocommit=True)
        self.schema = self._schema_digest()
        tables = self.conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        self.tables = [name for (name,) in tables]
        self.rows: dict[str, bytes] = {}
        for table in self.tables:
            with self.conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                data = b"".join(bytes(block) for block in copy)
            if data:
                self.rows[table] = data
        sequences = self.conn.execute(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        self.sequences = [
            (name, *self.conn.execute(f"SELECT last_value, is_called FROM {name}").fetchall()[0])
            for (name,) in sequences
        ]

    def _schema_digest(self) -> str:
        return str(self.conn.execute(_SCHEMA_DIGEST).fetchall()[0][0])

    def reset(self) -> None:
        # As DROP DATABASE … WITH (FORCE) did: connections the test left open go first.
        self.conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if self._schema_digest() != self.schema:
            self.drop()
            self._clone()
            return
        with self.conn.transaction():
            # Replica mode keeps the audit log's append-only trigger and the foreign keys out
            # of the way while the migrations' rows go back in.
            self.conn.execute("SET LOCAL session_replication_role = replica")
            self.conn.execute(f"TRUNCATE {', '.join(self.tables)}")
            for table, data in self.rows.items():
                with self.conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(data)
            for sequence in self.sequences:
                self.conn.execute("SELECT setval(%s, %s, %s)", sequence)

    def drop(self) -> None:
        self.conn.close()
        _drop_pg_database(self.admin, self.name)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The schema, migrated once per test process (xdist worker): a SQLite file, or a
    PostgreSQL template database."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)
        return
    admin = _admin_engine()
    name = _create_pg_database(admin)
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
    try:
        yield name
    finally:
        _drop_pg_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_database(_migrated_template: str) -> Iterator[_PostgresDatabase]:
    admin = _admin_engine()
    database = _PostgresDatabase(admin, _migrated_template)
    yield database
    database.drop()
    admin.dispose()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_template: str
) -> Iterator[str]:
    """A migrated database of the test's own: a copy of the template file, or on PostgreSQL
    the process's database, in the template's state again once the test is done."""
    if not PG_URL:
        path = tmp_path / "test.db"
        shutil.copyfile(_migrated_template, path)
        yield f"sqlite:///{path}"
        return
    database: _PostgresDatabase = request.getfixturevalue("_postgres_database")
    yield database.url
    database.reset()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own, for tests of the migrations themselves."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = _admin_engine()
    name = _create_pg_database(admin)
    try:
        yield _pg_url(name)
    finally:
        _drop_pg_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def _compiled_templates(tmp_path_factory: pytest.TempPathFactory) -> BytecodeCache:
    """Jinja compiles each template once per test process, not once per test app: the cache is
    keyed by the template's source, so every page renders as it would have."""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))


# -- the S3 store: the Swift server scripts/s3-server starts (scripts/test exports its URL) ----

S3_ENDPOINT = os.environ.get("TEST_S3_ENDPOINT_URL", "")
S3_BUCKET = "qc-test"
S3_KEYS = S3Credentials("test:tester", "testing")


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """The S3 server's URL, with the tests' bucket made; a loud skip when there is none."""
    if not S3_ENDPOINT:
        pytest.skip("S3 MISSING: TEST_S3_ENDPOINT_URL unset (scripts/s3-server); S3 NOT tested")
    client = s3_client(endpoint_url=S3_ENDPOINT, region="us-east-1", credentials=S3_KEYS)
    try:
        client.create_bucket(Bucket=S3_BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    except EndpointConnectionError:
        pytest.skip(f"S3 MISSING: nothing answers at {S3_ENDPOINT}; S3 NOT tested")
    return S3_ENDPOINT


def s3_settings(endpoint: str) -> dict[str, Any]:
    """Config settings for a store of its own: a fresh prefix in the tests' bucket, so tests
    (and xdist workers) never see each other's objects."""
    return {
        "STORAGE_URL": f"s3://{S3_BUCKET}/t-{uuid.uuid4().hex}",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_CREDENTIALS": S3_KEYS,
    }


def stored_files(app: Flask) -> Storage:
    """The app's file store (what web.files() answers inside a request)."""
    return app.extensions["qc_storage"]  # type: ignore[no-any-return]


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_url: str,
    _compiled_templates: BytecodeCache,
) -> Iterator[Flask]:
    # TEST_STORAGE=s3 runs the tests on the S3 store instead of the instance folder.
    storage = (
        s3_settings(request.getfixturevalue("s3_endpoint"))
        if os.environ.get("TEST_STORAGE") == "s3"
        else {}
    )
    config = Config.for_tests(
        tmp_path / "instance", database_url, RATELIMIT_ENABLED=False, **storage
    )
    app = create_app(config)
    app.jinja_env.bytecode_cache = _compiled_templates
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


def _limited_app(tmp_path: Path, source: Flask, storage: str, **overrides: Any) -> Flask:
    """Another worker of `source`'s deployment: same database and SECRET_KEY (hence the same
    check-code key), limits on."""
    qc = source.config["QC"]
    config = Config.for_tests(
        tmp_path / "instance",
        engine_of(source).url.render_as_string(hide_password=False),
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_KEY_PREFIX=f"qc-test-{uuid.uuid4().hex}",
        CHECK_CODE_BUDGET_PER_CLIENT_NUMBER="3/hour",
        CHECK_CODE_BUDGET_PER_CLIENT="5/hour",
        CHECK_CODE_SECRET=qc.CHECK_CODE_SECRET,
        STORAGE_URL=qc.STORAGE_URL,  # and the same file store
        S3_ENDPOINT_URL=qc.S3_ENDPOINT_URL,
        S3_REGION=qc.S3_REGION,
        S3_CREDENTIALS=qc.S3_CREDENTIALS,
        **overrides,
    )
    return create_app(config)


@pytest.fixture
def limited_app() -> Iterator[Callable[..., Flask]]:
    """Apps with limits on (each a 'worker'); their connections are closed after the test."""
    made: list[Flask] = []

    def make(tmp_path: Path, source: Flask, storage: str, **overrides: Any) -> Flask:
        made.append(_limited_app(tmp_path, source, storage, **overrides))
        return made[-1]

    yield make
    for app in made:
        engine_of(app).dispose()
        app.extensions["qc_counter_engine"].dispose()


@pytest.fixture
def web_tier() -> Iterator[WebTier]:
    """Web processes of a test app's deployment without the key passphrase, on a real queue
    (tests/queue_support.py); their connections are closed after the test."""
    made: list[Flask] = []

    def make(app: Flask, queue: dict[str, str], **overrides: Any) -> Flask:
        made.append(make_web_tier(app, queue, **overrides))
        return made[-1]

    yield make
    for app in made:
        engine_of(app).dispose()
        app.extensions["qc_counter_engine"].dispose()


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
    for name, user in users.items():
        if needs_second_factor(user):
            secret = new_secret()
            users[name] = provision_second_factor(
                session=db, actor=None, user_id=user.id or 0, secret=secret, now=now
            )
            TOTP.enrol(name, secret)
    ensure_signing_key(session=db, passphrase=app.config["QC"].signing_passphrase(), now=now)
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


def proof_set() -> dict[str, bytes]:
    """An intake set of photos by view: front, back and the stamp (what a metal piece needs,
    and enough for any other), each its own picture."""
    return {
        "front": jpeg_bytes(colour=(200, 160, 60)),
        "back": jpeg_bytes(colour=(180, 140, 50)),
        "stamp": jpeg_bytes(colour=(220, 190, 90)),
    }


# Intake without photos: the reason recorded instead (receive_item's keywords, the API's fields).
NO_PHOTO = {"no_photo_reason": "camera_fault", "no_photo_note": "镜头损坏"}


def other_views() -> dict[str, tuple[io.BytesIO, str]]:
    """The multipart fields that complete an intake set whose front is sent as `photo`."""
    views = proof_set()
    return {f"photo_{view}": (io.BytesIO(views[view]), f"{view}.jpg") for view in ("back", "stamp")}


def stored_pdfs(app: Flask) -> set[str]:
    """The digests of the certificate PDFs in the app's store."""
    return {str(o.digest) for o in stored_files(app).list("certificates")}


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
    return IssuingSetup.from_config(app.config["QC"], stored_files(app))


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

    def receive(
        self,
        item: Item,
        mass_g: str = "5.03",
        photo: bool = True,
        dimensions: dict[str, str] | None = None,
    ) -> Item:
        """Intake with a complete set of photos (front, back, stamp), or none and the reason."""
        views = proof_set() if photo else {}
        return receive_item(
            **({} if photo else NO_PHOTO),
            session=self.db,
            actor=self.world["inspector1"],
            code=item.code,
            mass_g=mass_g,
            photo=views.pop("front", None),
            views=views,
            dimensions=dimensions,
            files=stored_files(self.app),
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
    made: dict[str, dict[str, str]] = {}

    def make(username: str) -> dict[str, str]:
        """One token per user and test: staff give a second-factor code for each new one."""
        if username not in made:
            code = TOTP.code(username) if username in TOTP.secrets else ""
            _row, value = create_token(session=db, username=username, code=code, now=utcnow())
            made[username] = {"Authorization": f"Bearer {value}"}
        return made[username]

    return make


# -- Redis, where the rate limits of several workers meet --------------------------------------

REDIS_URL = os.environ.get("QC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"REDIS MISSING: no Redis at {REDIS_URL}; cross-worker limits NOT tested")
    yield REDIS_URL


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
