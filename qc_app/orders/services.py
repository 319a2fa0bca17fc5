"""Orders, and the packing station: item ↔ certificate ↔ order ↔ listing must all agree."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.certificates import numbers, signing
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.certificates.services import find, verifier
from qc_app.db import write
from qc_app.errors import Conflict, Forbidden, ValidationFailed, not_found
from qc_app.intake.models import Item
from qc_app.intake.services import apply, get_item
from qc_app.listings.models import Listing
from qc_app.orders.models import Order, OrderState
from qc_app.units import parse_price_fen


def create_order(
    *,
    session: Session,
    actor: User,
    order_no: str,
    listing_id: int,
    price_paid_fen: object,
    waybill_no: str,
    now: datetime,
) -> Order:
    """Orders come from the platform (admin role); the listing fixes the merchant."""
    if actor.role != "admin":
        raise Forbidden("只有平台可以创建订单", "only the platform creates orders")
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise not_found("商品", "listing")
    order_no, waybill_no = order_no.strip(), numbers.normalize(waybill_no)
    if not order_no or not waybill_no:
        raise ValidationFailed("订单号和运单号必填", "order_no and waybill_no are required")
    if session.exec(
        select(Order).where((Order.order_no == order_no) | (Order.waybill_no == waybill_no))
    ).first():
        raise Conflict("订单号或运单号已存在", "order or waybill number already exists")
    order = Order(
        order_no=order_no,
        merchant_id=listing.merchant_id,
        listing_id=listing.id or 0,
        price_paid_fen=parse_price_fen(price_paid_fen, field="price_paid_fen"),
        waybill_no=waybill_no,
        state=OrderState.OPEN,
        created_at=now,
    )
    with write(session):
        session.add(order)
        audit.record(
            session,
            actor=actor,
            action="order_created",
            entity="order",
            entity_id=order_no,
            at=now,
            listing_id=listing.id,
            waybill=waybill_no,
        )
    return order


def order_by_waybill(session: Session, waybill_no: str) -> Order:
    order = session.exec(
        select(Order).where(Order.waybill_no == numbers.normalize(waybill_no))
    ).first()
    if order is None:
        raise not_found(f"运单 {waybill_no}", f"waybill {waybill_no}")
    return order


def certificate_from_scan(session: Session, scanned: str) -> Certificate:
    """The packing scanner reads the certificate's QR (a signed URL) or its printed number."""
    text = scanned.strip()
    if "/v/" in text:
        parts = urlsplit(text)
        number = numbers.normalize(parts.path.rsplit("/v/", 1)[-1])
        query = parse_qs(parts.query)
        try:
            verifier(session).verify_url(number, query.get("s", [""])[0], query.get("k", [""])[0])
        except (signing.SignatureInvalid, signing.UnknownKey) as exc:
            raise Conflict(
                "证书二维码签名无效：可能是伪造的",
                "the certificate QR signature is invalid: it may be forged",
                code="packing_mismatch",
            ) from exc
    else:
        number = numbers.normalize(text)
    certificate = find(session, number)
    if certificate is None:
        raise not_found(f"证书 {number}", f"certificate {number}")
    return certificate


def pack(
    *,
    session: Session,
    actor: User,
    waybill_no: str,
    item_code: str,
    certificate_scan: str,
    seal_no: str,
    now: datetime,
) -> Order:
    order = order_by_waybill(session, waybill_no)
    item = get_item(session=session, actor=actor, code=item_code)
    certificate = certificate_from_scan(session, certificate_scan)
    problems = _mismatches(order, item, certificate)
    with write(session):
        apply(
            session,
            item,
            "pack",
            actor,
            now,
            {"problems": problems, "seal_no": seal_no},
            order=order.order_no,
            certificate=certificate.number,
            seal_no=seal_no.strip(),
        )
        item.order_id = order.id
        order.state = OrderState.PACKED
        order.seal_no = seal_no.strip()[:40]
        order.packed_at = now
        session.add_all([item, order])
    return order


def _mismatches(order: Order, item: Item, certificate: Certificate) -> list[tuple[str, str]]:
    checks = [
        (order.state != OrderState.OPEN, "订单不是待打包状态", "order is not open"),
        (
            item.listing_id != order.listing_id or item.merchant_id != order.merchant_id,
            "物品不属于该订单的商品",
            "item is from another listing",
        ),
        (certificate.item_id != item.id, "证书不属于该物品", "certificate is for another item"),
        (certificate.status != CertificateStatus.VALID, "证书已吊销", "certificate is revoked"),
    ]
    return [(zh, en) for failed, zh, en in checks if failed]


def ship(*, session: Session, actor: User, waybill_no: str, now: datetime) -> Order:
    order = order_by_waybill(session, waybill_no)
    item = session.exec(select(Item).where(Item.order_id == order.id)).first()
    if item is None or order.state != OrderState.PACKED:
        raise Conflict("订单尚未打包", "the order is not packed", code="illegal_transition")
    with write(session):
        apply(session, item, "ship", actor, now, order=order.order_no)
        order.state = OrderState.SHIPPED
        order.shipped_at = now
        session.add(order)
    return order


def deliver(*, session: Session, actor: User, waybill_no: str, now: datetime) -> Order:
    """The parcel reached the consumer: the order completes and the claim window opens."""
    order = order_by_waybill(session, waybill_no)
    item = session.exec(select(Item).where(Item.order_id == order.id)).first()
    if item is None or order.state != OrderState.SHIPPED:
        raise Conflict("订单尚未发货", "the order is not shipped", code="illegal_transition")
    with write(session):
        apply(session, item, "deliver", actor, now, order=order.order_no)
        order.state = OrderState.DELIVERED
        order.delivered_at = now
        session.add(order)
    return order


def open_orders(*, session: Session, limit: int = 100) -> list[Order]:
    query = select(Order).where(Order.state.in_([OrderState.OPEN, OrderState.PACKED]))  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(Order.id).limit(limit)))  # type: ignore[arg-type]
