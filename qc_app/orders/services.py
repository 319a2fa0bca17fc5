"""Orders, and the packing station: item ↔ certificate ↔ order ↔ listing must all agree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, col, select

from qc_app import audit, storage
from qc_app.auth.models import User
from qc_app.authz import PLATFORM, authorize, ensure_visible
from qc_app.certificates import signing
from qc_app.certificates.keys import verifier
from qc_app.certificates.lookup import find
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.codes import normalize
from qc_app.db import parse_id, write
from qc_app.errors import (
    Conflict,
    DomainError,
    LostRace,
    NotFound,
    ValidationFailed,
)
from qc_app.i18n import Message, msg
from qc_app.inspection.services import latest_approved
from qc_app.items import guards
from qc_app.items.models import Item
from qc_app.items.services import apply, get_item, hold, photo_row
from qc_app.items.workflow import MACHINE as ITEMS
from qc_app.items.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.orders import workflow
from qc_app.orders.models import Order
from qc_app.orders.workflow import OrderState
from qc_app.programmes import services as programmes
from qc_app.programmes.models import Programme
from qc_app.storage import Storage
from qc_app.units import cg_to_mass, mass_to_cg, parse_mass_g, parse_price_fen
from qc_app.uploads import clean_image, decode_csv
from qc_app.warehouse import alarms, mass, once


def create_order(
    *,
    session: Session,
    actor: User,
    order_no: str,
    listing_id: int,
    price_paid_fen: object,
    waybill_no: str,
    now: datetime,
    item_code: str = "",
    programme: object = "",
) -> Order:
    """Orders come from the platform (admin role); the listing fixes the merchant.

    With `item_code` the order is bound to a piece already in the warehouse (stock inspected
    before sale); without it, the merchant sends the item in later naming the order.
    `programme`: the code of the order's guarantee programme; empty: the listing's. The order
    keeps it, whatever the listing names later.
    """
    with write(session):
        order = _new_order(
            session,
            actor,
            order_no,
            listing_id,
            price_paid_fen,
            waybill_no,
            item_code,
            now,
            programme=programme,
        )
    return order


def _new_order(
    session: Session,
    actor: User,
    order_no: str,
    listing_id: int,
    price_paid_fen: object,
    waybill_no: str,
    item_code: str,
    now: datetime,
    *,
    programme: object = "",
) -> Order:
    authorize(actor, PLATFORM)
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(msg("未找到商品"))
    order_no, waybill_no = order_no.strip(), normalize(waybill_no)
    if not order_no or not waybill_no:
        raise ValidationFailed(msg("订单号和运单号必填"))
    if len(order_no) > 40 or len(waybill_no) > 40:
        raise ValidationFailed(msg("订单号或运单号过长"))
    price = parse_price_fen(price_paid_fen, field="price_paid_fen")
    if session.exec(
        select(Order).where((Order.order_no == order_no) | (Order.waybill_no == waybill_no))
    ).first():
        raise Conflict(msg("订单号或运单号已存在"))
    item = _stock_item(session, listing, item_code) if item_code.strip() else None
    chosen = (
        programmes.by_code(session, programme, now)
        if str(programme or "").strip()
        else session.get_one(Programme, listing.programme_id)
    )
    order = Order(
        order_no=order_no,
        merchant_id=listing.merchant_id,
        listing_id=listing.id or 0,
        price_paid_fen=price,
        waybill_no=waybill_no,
        state=OrderState.OPEN,
        programme_id=chosen.id or 0,
        created_at=now,
    )
    session.add(order)
    session.flush()
    if item is not None:
        item.order_id = order.id
        session.add(item)
    audit.record(
        session,
        actor=actor,
        action="order_created",
        entity="order",
        entity_id=order_no,
        at=now,
        listing_id=listing.id,
        waybill=waybill_no,
        item=item.code if item else None,
        programme=chosen.code,
    )
    return order


def _stock_item(session: Session, listing: Listing, item_code: str) -> Item:
    item = session.exec(select(Item).where(Item.code == normalize(item_code))).first()
    if item is None or item.listing_id != listing.id:
        raise ValidationFailed(msg("物品不存在或不属于该商品"))
    if item.order_id is not None:
        raise Conflict(msg("物品已绑定其他订单"))
    if item.state in (ItemState.RETURN_TO_MERCHANT, ItemState.RETURNED):
        raise Conflict(msg("物品检测不合格，不能销售"))
    return item


CSV_COLUMNS = ("order_no", "listing_id", "price_paid_fen", "waybill_no")
MAX_CSV_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file, header = 1
    message: Message


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _Abort(Exception):
    """Leaves the import transaction without saving when any row is wrong."""


def import_orders_csv(*, session: Session, actor: User, data: bytes, now: datetime) -> ImportReport:
    """CSV import by the platform admin: all rows or none, every wrong row reported by line.

    Columns: order_no, listing_id, price_paid_fen, waybill_no, optional item_code.
    """
    authorize(actor, PLATFORM)
    reader = csv.DictReader(io.StringIO(decode_csv(data)))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(msg("缺少列：{missing}", missing=", ".join(missing)))
    report = ImportReport()
    try:
        with write(session):
            for line, row in enumerate(reader, start=2):
                if line - 1 > MAX_CSV_ROWS:
                    raise ValidationFailed(msg("最多 {max_csv_rows} 行", max_csv_rows=MAX_CSV_ROWS))
                _import_row(session, actor, line, row, now, report)
            if not report.created and not report.errors:
                report.errors.append(RowError(1, msg("文件没有订单行")))
            if report.errors:
                raise _Abort
    except _Abort:
        report.created.clear()
    return report


def _import_row(
    session: Session,
    actor: User,
    line: int,
    row: dict[str, Any],
    now: datetime,
    report: ImportReport,
) -> None:
    try:
        order = _new_order(
            session,
            actor,
            str(row.get("order_no") or ""),
            parse_id(row.get("listing_id"), field="listing_id"),
            str(row.get("price_paid_fen") or "").strip(),
            str(row.get("waybill_no") or ""),
            str(row.get("item_code") or ""),
            now,
        )
    except DomainError as exc:
        report.errors.append(RowError(line, exc.message))
        return
    report.created.append(order.order_no)


def get_order(*, session: Session, actor: User, order_no: str) -> Order:
    order = session.exec(select(Order).where(Order.order_no == order_no.strip())).first()
    if order is None:
        raise NotFound(msg("未找到订单"))
    ensure_visible(actor, order.merchant_id, msg("未找到订单"))
    return order


def item_of(session: Session, order: Order) -> Item | None:
    return session.exec(select(Item).where(Item.order_id == order.id)).first()


def order_by_waybill(session: Session, waybill_no: str) -> Order:
    order = session.exec(select(Order).where(Order.waybill_no == normalize(waybill_no))).first()
    if order is None:
        raise NotFound(msg("未找到运单 {waybill_no}", waybill_no=waybill_no))
    return order


def certificate_from_scan(session: Session, scanned: str) -> Certificate:
    """The packing scanner reads the certificate's QR (a signed URL) or its printed number."""
    text = scanned.strip()
    if "/v/" in text:
        parts = urlsplit(text)
        number = normalize(parts.path.rsplit("/v/", 1)[-1])
        query = parse_qs(parts.query)
        try:
            verifier(session).verify_url(number, query.get("s", [""])[0], query.get("k", [""])[0])
        except (signing.SignatureInvalid, signing.UnknownKey) as exc:
            raise Conflict(
                msg("证书二维码签名无效：可能是伪造的"),
                code="packing_mismatch",
            ) from exc
    else:
        number = normalize(text)
    certificate = find(session, number)
    if certificate is None:
        raise NotFound(msg("未找到证书 {number}", number=number))
    return certificate


SEAL_MAX = 40  # the column's length


def pack(
    *,
    session: Session,
    actor: User,
    waybill_no: str,
    item_code: str,
    certificate_scan: str,
    seal_no: str,
    mass_g: object,
    now: datetime,
    photo: bytes | None = None,
    files: Storage | None = None,
    station: str = "",
    once_key: str | None = None,
) -> Order:
    """The packing station: waybill, item, certificate QR, seal, mass (and a photo).

    Refuses a mismatch loudly. A mass drift between intake, lab and packing beyond the balance
    tolerance raises an alarm and puts the item on hold (committed), then refuses to pack: the
    piece stays quarantined until a supervisor has compared it with the photos and cleared it.
    """
    key = once.clean_key(once_key)
    asked = once.digest(
        waybill_no=normalize(waybill_no),
        item_code=normalize(item_code),
        certificate=certificate_scan.strip(),
        seal_no=seal_no.strip(),
        mass_g=mass_g,
        photo=photo,
    )
    order = order_by_waybill(session, waybill_no)
    item = get_item(session=session, actor=actor, code=item_code)
    certificate = certificate_from_scan(session, certificate_scan)
    # Recalled after reading what a pack changes, as in intake.services.receive_scan.
    prior = once.recall(session, user_id=actor.id, key=key, scope="pack", request=asked)
    if prior is not None:
        session.refresh(order)
        return order
    seal = _seal_number(seal_no)
    ITEMS.check(item, "pack", actor, _packing(session, order, item, certificate, seal))
    packed_cg = mass_to_cg(parse_mass_g(mass_g))
    image = clean_image(photo) if photo else None
    found = mass.drift(_readings(session, item, packed_cg))
    if found is not None:
        _quarantine(session, actor, item, found, packed_cg, station, now)
        raise Conflict(found.message, code="mass_drift")
    # Stored only once the photo will be linked, and before the transaction takes the lock.
    digest = storage.store(files, "photos", image.jpeg, ".jpg") if image and files else None
    try:
        # Checked again under the lock: a parallel pack of the same order or item, or a
        # revocation, may have won meanwhile (a parallel use of the seal meets its unique index).
        with write(session, item, order, certificate):
            facts = _packing(session, order, item, certificate, seal)
            item.order_id = order.id
            order.seal_no = seal
            order.packed_mass_cg = packed_cg
            # The order follows its item to PACKED (orders.hooks).
            apply(
                session,
                item,
                "pack",
                actor,
                now,
                facts,
                order=order.order_no,
                certificate=certificate.number,
                seal_no=seal,
                mass_g=str(cg_to_mass(packed_cg)),
                photo_sha256=digest,
                station=station,
            )
            if image and digest:
                session.add(photo_row(item, image, digest, "packing", actor, now))
            once.remember(
                session,
                user_id=actor.id,
                key=key,
                scope="pack",
                request=asked,
                outcome={"waybill_no": order.waybill_no},
                now=now,
            )
    except LostRace:
        prior = once.recall(session, user_id=actor.id, key=key, scope="pack", request=asked)
        if prior is not None:
            return order_by_waybill(session, str(prior["waybill_no"]))
        raise
    return order


def _readings(session: Session, item: Item, packed_cg: int) -> list[mass.Reading]:
    readings = []
    if item.received_mass_cg is not None:
        readings.append(mass.Reading("intake", item.received_mass_cg))
    lab = lab_mass_cg(latest_approved(session=session, item=item))
    if lab is not None:
        readings.append(mass.Reading("lab", lab))
    readings.append(mass.Reading("packing", packed_cg))
    return readings


def lab_mass_cg(inspection: Any) -> int | None:
    """The `mass_g` the lab measured, from the approved inspection's measurements (JSON)."""
    if inspection is None:
        return None
    try:
        value = inspection.measurements.get("mass_g")
        return None if value is None else mass_to_cg(Decimal(str(value)))
    except (ValueError, ArithmeticError, AttributeError):
        return None


def _quarantine(
    session: Session,
    actor: User,
    item: Item,
    found: mass.Finding,
    packed_cg: int,
    station: str,
    now: datetime,
) -> None:
    with write(session):
        alarms.raise_alarm(
            session,
            actor=actor,
            item_id=item.id or 0,
            item_code=item.code,
            merchant_id=item.merchant_id,
            kind=found.code,
            station=station,
            detail={
                "message_zh": found.message.render("zh"),
                "message_en": found.message.render("en"),
                "packing_mass_g": str(cg_to_mass(packed_cg)),
            },
            now=now,
        )
        hold(session, actor, item, found.message, now, station=station)


def _seal_number(scanned: str) -> str:
    """The seal number as stored: scanned or typed, in any case, with stray spaces."""
    seal = "".join(scanned.split()).upper()
    if len(seal) > SEAL_MAX:
        raise ValidationFailed(
            msg("封签号过长（最多 {seal_max} 个字符）", seal_max=SEAL_MAX),
        )
    return seal


def _packing(
    session: Session, order: Order, item: Item, certificate: Certificate, seal: str
) -> guards.Packing:
    """What the packing guard decides on, read at the station."""
    bound = item_of(session, order)
    sealed = (
        session.exec(select(Order).where(Order.seal_no == seal, Order.id != order.id)).first()
        if seal
        else None
    )
    return guards.Packing(
        order_id=order.id or 0,
        order_open=order.state == OrderState.OPEN,
        order_listing_id=order.listing_id,
        order_merchant_id=order.merchant_id,
        item_listing_id=item.listing_id,
        item_merchant_id=item.merchant_id,
        item_order_id=item.order_id,
        bound_item_id=bound.id if bound is not None else None,
        item_id=item.id or 0,
        certificate_item_id=certificate.item_id,
        certificate_valid=certificate.status == CertificateStatus.VALID,
        seal_no=seal,
        seal_used_by=sealed.order_no if sealed is not None else None,
    )


def ship(*, session: Session, actor: User, waybill_no: str, now: datetime) -> Order:
    return _advance(session, actor, waybill_no, now, "ship")


def order_list() -> ListFound:
    """The platform's orders, newest first, each with its listing's title and its shop's name
    (never their ids); found by order number, waybill or title, narrowed by state, the
    listing's material, shop and the day the order was placed."""
    query = (
        select(Order, Listing.title, Merchant.name)
        .join(Listing, col(Listing.id) == col(Order.listing_id))
        .join(Merchant, col(Merchant.id) == col(Order.merchant_id))
    )
    spec = ListSpec(
        key=col(Order.id),
        search=(col(Listing.title),),
        exact=(col(Order.order_no), col(Order.waybill_no)),
        state=col(Order.state),
        states=tuple(OrderState),
        state_kind="order",
        material=col(Listing.material_code),
        merchant=col(Order.merchant_id),
        when=col(Order.created_at),
    )
    return spec, query


def recent_orders(*, session: Session, limit: int = 100) -> list[Order]:
    query = select(Order).order_by(col(Order.id).desc()).limit(limit)
    return list(session.exec(query))


def deliver(*, session: Session, actor: User, waybill_no: str, now: datetime) -> Order:
    """The parcel reached the consumer: the order completes and the claim window opens."""
    return _advance(session, actor, waybill_no, now, "deliver")


def _advance(session: Session, actor: User, waybill_no: str, now: datetime, step: str) -> Order:
    """Ship or deliver: the item moves, and its order follows (orders.hooks)."""
    order = order_by_waybill(session, waybill_no)
    item = item_of(session, order)
    workflow.MACHINE.check(order, step, actor)
    if item is None:
        raise Conflict(msg("订单没有物品"), code="illegal_transition")
    with write(session, item, order):
        apply(session, item, step, actor, now, order=order.order_no)
    return order


def open_orders(*, session: Session, limit: int = 100) -> list[Order]:
    query = select(Order).where(Order.state.in_([OrderState.OPEN, OrderState.PACKED]))  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(Order.id).limit(limit)))  # type: ignore[arg-type]
