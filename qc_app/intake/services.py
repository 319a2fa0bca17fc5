"""Consignments, intake at the warehouse, holds and returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from qc_app import audit, storage
from qc_app.access import ensure_visible
from qc_app.auth.models import User
from qc_app.certificates.numbers import (
    new_consignment_code,
    new_item_code,
    normalize,
)
from qc_app.db import write
from qc_app.errors import Forbidden, ValidationFailed, not_found
from qc_app.intake import workflow
from qc_app.intake.models import Consignment, Item, Photo
from qc_app.intake.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.rules.engine import load_ruleset
from qc_app.units import cg_to_mass, mass_to_cg, parse_mass_g, parse_price_fen
from qc_app.uploads import clean_image

MAX_ITEMS = 500


def apply(
    session: Session,
    item: Item,
    name: str,
    actor: User,
    now: datetime,
    context: Mapping[str, Any] | None = None,
    **details: Any,
) -> workflow.Change:
    """Run one workflow transition and append its audit event, inside the caller's transaction."""
    change = workflow.transition(item, name, actor, context)
    session.add(item)
    audit.record(
        session,
        actor=actor,
        action=name,
        entity="item",
        entity_id=item.code,
        at=now,
        before=change.before.value,
        after=change.after.value,
        **details,
    )
    return change


def create_consignment(
    *, session: Session, actor: User, items: Sequence[Mapping[str, Any]], now: datetime
) -> Consignment:
    if actor.role != "merchant" or actor.merchant_id is None:
        raise Forbidden("只有商家可以创建送检单", "only merchants create consignments")
    if not items or len(items) > MAX_ITEMS:
        raise ValidationFailed(
            f"送检单须有 1–{MAX_ITEMS} 件物品", f"a consignment needs 1 to {MAX_ITEMS} items"
        )
    rules = load_ruleset()
    with write(session):
        consignment = Consignment(
            code=new_consignment_code(),
            merchant_id=actor.merchant_id,
            created_by_id=actor.id or 0,
            created_at=now,
        )
        session.add(consignment)
        session.flush()
        for row, spec in enumerate(items, start=1):
            item = _declared_item(session, actor, consignment, rules, spec, row, now)
            session.add(item)
            audit.record(
                session,
                actor=actor,
                action="declare",
                entity="item",
                entity_id=item.code,
                at=now,
                after=ItemState.DECLARED.value,
                consignment=consignment.code,
                material=item.declared_material,
                mass_g=str(cg_to_mass(item.declared_mass_cg)),
            )
    return consignment


def _declared_item(
    session: Session,
    actor: User,
    consignment: Consignment,
    rules: Any,
    spec: Mapping[str, Any],
    row: int,
    now: datetime,
) -> Item:
    try:
        listing = session.get(Listing, int(spec.get("listing_id") or 0))
        if listing is None or listing.merchant_id != actor.merchant_id:
            raise ValidationFailed("商品不存在", "listing not found")
        material = str(spec.get("declared_material") or listing.material_code)
        rules.declaration(material)
        mass = parse_mass_g(spec.get("mass_g"))
        price = parse_price_fen(spec.get("price_fen", listing.price_fen))
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"第 {row} 件：{exc.message_zh}", f"item {row}: {exc.message_en}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"第 {row} 件：商品编号无效", f"item {row}: invalid listing id"
        ) from exc
    return Item(
        code=new_item_code(),
        consignment_id=consignment.id or 0,
        merchant_id=listing.merchant_id,
        listing_id=listing.id or 0,
        declared_material=material,
        declared_mass_cg=mass_to_cg(mass),
        price_fen=price,
        description=str(spec.get("description") or "")[:200],
        state=ItemState.DECLARED,
        created_at=now,
    )


def get_item(*, session: Session, actor: User, code: str) -> Item:
    item = session.exec(select(Item).where(Item.code == normalize(code))).first()
    if item is None:
        raise not_found(f"物品 {code}", f"item {code}")
    ensure_visible(actor, item.merchant_id, f"物品 {code}", f"item {code}")
    return item


def get_consignment(*, session: Session, actor: User, code: str) -> Consignment:
    consignment = session.exec(
        select(Consignment).where(Consignment.code == normalize(code))
    ).first()
    if consignment is None:
        raise not_found("送检单", "consignment")
    ensure_visible(actor, consignment.merchant_id, "送检单", "consignment")
    return consignment


def consignment_items(*, session: Session, consignment: Consignment) -> list[Item]:
    query = select(Item).where(Item.consignment_id == consignment.id)
    return list(session.exec(query.order_by(Item.id)))  # type: ignore[arg-type]


def merchant_consignments(*, session: Session, actor: User) -> list[Consignment]:
    query = select(Consignment).where(Consignment.merchant_id == actor.merchant_id)
    return list(session.exec(query.order_by(Consignment.id.desc())))  # type: ignore[union-attr]


def items_in(*, session: Session, states: Sequence[ItemState], limit: int = 200) -> list[Item]:
    query = select(Item).where(Item.state.in_([s.value for s in states]))  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(Item.id).limit(limit)))  # type: ignore[arg-type]


def receive_item(
    *,
    session: Session,
    actor: User,
    code: str,
    mass_g: object,
    photo: bytes | None,
    files: Path,
    now: datetime,
) -> Item:
    """Intake: the scanned item is weighed (and photographed) at the warehouse."""
    item = get_item(session=session, actor=actor, code=code)
    mass = parse_mass_g(mass_g)
    image = clean_image(photo) if photo else None
    digest = storage.store(files, "photos", image.jpeg, ".jpg") if image else None
    with write(session):
        item.received_mass_cg = mass_to_cg(mass)
        item.received_by_id = actor.id
        item.received_at = now
        apply(
            session,
            item,
            "receive",
            actor,
            now,
            {"mass_cg": item.received_mass_cg},
            mass_g=str(mass),
            declared_mass_g=str(cg_to_mass(item.declared_mass_cg)),
            photo_sha256=digest,
        )
        if image and digest:
            session.add(
                Photo(
                    item_id=item.id or 0,
                    sha256=digest,
                    original_sha256=image.original_sha256,
                    kind="intake",
                    width=image.width,
                    height=image.height,
                    created_by_id=actor.id or 0,
                    created_at=now,
                )
            )
    return item


def item_photos(*, session: Session, item: Item) -> list[Photo]:
    query = select(Photo).where(Photo.item_id == item.id)
    return list(session.exec(query.order_by(Photo.id)))  # type: ignore[arg-type]


def hold_item(*, session: Session, actor: User, code: str, reason: str, now: datetime) -> Item:
    item = get_item(session=session, actor=actor, code=code)
    with write(session):
        item.hold_reason = reason.strip()[:200]
        apply(session, item, "hold", actor, now, {"reason": reason}, reason=item.hold_reason)
    return item


def release_item(*, session: Session, actor: User, code: str, now: datetime) -> Item:
    item = get_item(session=session, actor=actor, code=code)
    with write(session):
        item.hold_reason = None
        apply(session, item, "release", actor, now)
    return item


def return_shipped(
    *, session: Session, actor: User, code: str, waybill_no: str, now: datetime
) -> Item:
    item = get_item(session=session, actor=actor, code=code)
    if not waybill_no.strip():
        raise ValidationFailed("请填写退货运单号", "the return waybill number is required")
    with write(session):
        apply(session, item, "return_shipped", actor, now, waybill_no=waybill_no.strip()[:40])
    return item


def timeline(*, session: Session, actor: User, code: str) -> tuple[Item, list[audit.AuditEvent]]:
    item = get_item(session=session, actor=actor, code=code)
    return item, audit.history(session, entity="item", entity_id=item.code)
