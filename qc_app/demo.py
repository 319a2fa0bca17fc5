"""Demo data for `scripts/serve`: every role's account, a lab, listings, a consignment waiting
at intake, open orders, and (when the CJK font is installed) two rings taken all the way to a
signed certificate: one waiting at the packing station, one packed, shipped and delivered, so
the consumer page and the 假一赔十 claim can be tried at once. Built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from qc_app import audit
from qc_app.auth import second_factor
from qc_app.auth.models import User
from qc_app.auth.passwords import DEMO_PASSWORD, verify_password
from qc_app.auth.services import create_user, needs_second_factor, provision_second_factor
from qc_app.certificates.fonts import FontMissing, find_cjk_font
from qc_app.certificates.issuance import Issued, IssuingSetup, issue_certificate
from qc_app.certificates.keys import ensure_signing_key
from qc_app.config import Config
from qc_app.db import write
from qc_app.errors import NotFound
from qc_app.i18n import msg
from qc_app.inspection.models import TestingBody
from qc_app.inspection.services import approve, record_inspection
from qc_app.intake.services import consignment_items, create_consignment, receive_item
from qc_app.listings.services import create_listing, set_labels
from qc_app.merchants import programme
from qc_app.merchants.models import Merchant
from qc_app.merchants.services import join_programme
from qc_app.orders.services import create_order, deliver, pack, ship
from qc_app.sqltypes import utcnow
from qc_app.storage import Storage


@dataclass
class DemoCreated:
    users: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)  # "what it shows: verify URL"
    authenticators: list[str] = field(default_factory=list)  # "user: otpauth URI" of staff


def load_demo(*, session: Session, config: Config, files: Storage) -> DemoCreated | None:
    if session.exec(select(User)).first() is not None:
        return None
    now = utcnow()
    created = DemoCreated()
    with write(session):
        shops = [
            # merchant1's shop meets every rights-centre check; merchant2's rep is not verified yet.
            Merchant(
                name="金福珠宝旗舰店",
                licence_no="91440300MA5DEM0019",
                legal_rep_verified=True,
                categories="jewelry,gold",
                created_at=now,
            ),
            Merchant(
                name="玉满堂珠宝",
                licence_no="91650100MA7DEMQ028",
                categories="jadeite,collectibles",
                created_at=now,
            ),
        ]
        lab = TestingBody(
            code="GTC",
            name_zh="华南珠宝玉石检测中心（演示）",
            name_en="South China Gem Testing Centre (demo)",
            cma_no="2024190000DEMO",
            cnas_no="CNAS L0000-DEMO",
            cert_prefix="GTC",
            accredited_until=date(now.year + 5, 12, 31),
        )
        diamonds_only = TestingBody(
            code="NDC",
            name_zh="国家钻石与贵金属检测站（演示）",
            name_en="National Diamond and Metals Station (demo)",
            cma_no="2023110000DEMO",
            cert_prefix="NDC",
            accredited_from=date(now.year - 1, 1, 1),
            accredited_until=date(now.year + 3, 6, 30),
            scope=["diamond", "precious_metal"],
        )
        session.add_all([*shops, lab, diamonds_only])
        session.flush()
        audit.record(
            session, actor=None, action="demo_loaded", entity="system", entity_id="demo", at=now
        )
    people = [
        ("merchant1", "金福 店长", "merchant", shops[0].id, None),
        ("merchant2", "玉满堂 店长", "merchant", shops[1].id, None),
        ("inspector1", "王质检", "inspector", None, None),
        ("analyst1", "李检测", "analyst", None, lab.id),
        ("reviewer1", "陈审核", "reviewer", None, lab.id),
        ("admin1", "平台管理员", "admin", None, None),
    ]
    users = {}
    for username, name, role, merchant_id, body_id in people:
        users[username] = create_user(
            session=session,
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=name,
            merchant_id=merchant_id,
            testing_body_id=body_id,
            now=now,
            demo=True,
        )
        created.users.append(username)
        if needs_second_factor(users[username]):
            user = provision_second_factor(
                session=session,
                actor=None,
                user_id=users[username].id or 0,
                secret=second_factor.new_secret(),
                now=now,
            )
            uri = second_factor.provisioning_uri(user.totp_secret or "", username)
            created.authenticators.append(f"{username}: {uri}")
    ensure_signing_key(session=session, passphrase=config.signing_passphrase(), now=now)
    m1 = users["merchant1"]
    ring = create_listing(
        session=session,
        actor=m1,
        title="足金古法素圈戒指 约5克",
        brand="金福",
        material_code="AU990",
        price_fen=328000,
        now=now,
    )
    chain = create_listing(
        session=session,
        actor=m1,
        title="18K金锁骨链",
        brand="金福",
        material_code="AU750",
        price_fen=189900,
        now=now,
    )
    create_listing(
        session=session,
        actor=users["merchant2"],
        title="Pt950 铂金对戒",
        brand="玉满堂",
        material_code="PT950",
        price_fen=459900,
        now=now,
    )
    # merchant1 signs the 鉴定验真 agreement and labels the ring 假一赔十 before any order, so
    # the ring's orders are covered (a claim on them can be filed).
    join_programme(
        session=session,
        actor=m1,
        agreement_sha256=programme.agreement_sha256(),
        accepted=True,
        now=now,
    )
    set_labels(
        session=session, actor=m1, listing_id=ring.id or 0, authentic=True, guarantee=True, now=now
    )
    _jade_and_pearls(session, files, users, now)
    create_consignment(
        session=session,
        actor=m1,
        now=now,
        items=[
            {"listing_id": ring.id, "mass_g": "5.02", "description": "足金戒指"},
            {"listing_id": chain.id, "mass_g": "3.10", "description": "18K金项链"},
        ],
    )
    admin = users["admin1"]
    create_order(
        session=session,
        actor=admin,
        order_no="DY202611220001",
        listing_id=ring.id or 0,
        price_paid_fen=328000,
        waybill_no="SF1000000001",
        now=now,
    )
    create_order(
        session=session,
        actor=admin,
        order_no="DY202611220002",
        listing_id=ring.id or 0,
        price_paid_fen=328000,
        waybill_no="SF1000000002",
        now=now,
    )
    created.certificates = _certified_examples(session, config, files, users, ring.id or 0)
    return created


def _jade_and_pearls(
    session: Session, files: Storage, users: dict[str, User], now: datetime
) -> None:
    """A second shop's jade and pearls, received and waiting in the lab queue."""
    shop = users["merchant2"]
    listings = {
        code: create_listing(
            session=session,
            actor=shop,
            title=title,
            brand="",
            material_code=code,
            price_fen=price,
            now=now,
        )
        for code, title, price in (
            ("JADEITE", "缅甸翡翠冰种平安扣", 268000),
            ("NEPHRITE", "新疆和田玉籽料羊脂白玉吊坠 洒金皮", 588000),
            ("PEARL", "淡水珍珠项链 8-9mm", 39900),
        )
    }
    consignment = create_consignment(
        session=session,
        actor=shop,
        now=now,
        items=[
            {"listing_id": listings["JADEITE"].id, "mass_g": "12.40", "description": "翡翠平安扣"},
            {"listing_id": listings["NEPHRITE"].id, "mass_g": "18.05", "description": "和田玉吊坠"},
            {"listing_id": listings["PEARL"].id, "mass_g": "31.50", "description": "珍珠项链"},
        ],
    )
    for item, mass in zip(
        consignment_items(session=session, consignment=consignment),
        ("12.41", "18.05", "31.52"),
        strict=True,
    ):
        receive_item(
            session=session,
            actor=users["inspector1"],
            code=item.code,
            mass_g=mass,
            photo=_demo_photo("front"),
            views={view: _demo_photo(view) for view in ("back", "detail")},
            files=files,
            now=now,
        )


def _certified_examples(
    session: Session, config: Config, files: Storage, users: dict[str, User], listing_id: int
) -> list[str]:
    """Two rings through intake, lab, review and issuance, when the CJK font is installed: the
    first waits for packing into SF1000000001; the second is packed, shipped and delivered."""
    try:
        find_cjk_font(config.CJK_FONT)
    except FontMissing:
        return []
    to_pack, delivered = (
        _certified_ring(session, config, files, users, listing_id) for _ in range(2)
    )
    now = utcnow()
    admin, inspector = users["admin1"], users["inspector1"]
    order = create_order(
        session=session,
        actor=admin,
        order_no="DY202611220003",
        listing_id=listing_id,
        price_paid_fen=328000,
        waybill_no="SF1000000003",
        now=now,
    )
    pack(
        session=session,
        actor=inspector,
        waybill_no=order.waybill_no,
        item_code=delivered[0],
        certificate_scan=delivered[1].certificate.number,
        seal_no="FQ00000003",
        mass_g="5.03",
        now=now,
    )
    ship(session=session, actor=inspector, waybill_no=order.waybill_no, now=now)
    deliver(session=session, actor=admin, waybill_no=order.waybill_no, now=now)
    return [
        f"to pack into SF1000000001: {to_pack[1].verify_url}  (check code {to_pack[1].check_code})",
        f"delivered, order DY202611220003, a claim can be filed: {delivered[1].verify_url}  "
        f"(check code {delivered[1].check_code})",
    ]


def _certified_ring(
    session: Session, config: Config, files: Storage, users: dict[str, User], listing_id: int
) -> tuple[str, Issued]:
    now = utcnow()
    consignment = create_consignment(
        session=session,
        actor=users["merchant1"],
        now=now,
        items=[
            {"listing_id": listing_id, "mass_g": "5.02", "description": "足金戒指（已出证示例）"}
        ],
    )
    code = consignment_items(session=session, consignment=consignment)[0].code
    receive_item(
        session=session,
        actor=users["inspector1"],
        code=code,
        mass_g="5.03",
        photo=_demo_photo("front"),
        views={view: _demo_photo(view) for view in ("back", "stamp")},
        files=files,
        now=now,
    )
    inspection = record_inspection(
        session=session,
        actor=users["analyst1"],
        code=code,
        now=now,
        raw={"mass_g": Decimal("5.03"), "fineness_permille": "999.2", "metal": "Au"},
    )
    approve(session=session, actor=users["reviewer1"], inspection_id=inspection.id or 0, now=now)
    issued = issue_certificate(
        session=session,
        actor=users["inspector1"],
        code=code,
        now=now,
        setup=IssuingSetup.from_config(config, files),
    )
    return code, issued


def _demo_photo(view: str) -> bytes:
    """A drawn gold ring on a light background: a stand-in for the intake camera's view (the
    back seen thinner, the stamp as a close-up of the band)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 600), (246, 243, 236))
    draw = ImageDraw.Draw(image)
    if view == "stamp":
        draw.rectangle((60, 220, 540, 380), fill=(201, 158, 62))
        draw.rectangle((230, 270, 370, 330), outline=(120, 90, 30), width=8)
    else:
        band = 56 if view == "front" else 30
        draw.ellipse((130, 150, 470, 490), outline=(201, 158, 62), width=band)
        draw.ellipse((170, 190, 430, 450), outline=(236, 205, 120), width=10)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def demo_totp_code(*, session: Session, username: str, now: datetime) -> str:
    """The current second-factor code of a demo account (its password is the public demo
    password), so the demo can be tried without an authenticator app. Any other account is
    refused: its code comes from its owner's phone only."""
    user = session.exec(select(User).where(User.username == username)).first()
    if (
        user is None
        or user.totp_secret is None
        or not verify_password(user.password_hash, DEMO_PASSWORD)
    ):
        raise NotFound(msg("{username} 不是启用了动态验证码的演示账号", username=username))
    return second_factor.code_at(user.totp_secret, now)
