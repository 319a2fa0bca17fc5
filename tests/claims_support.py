"""A certified item sold, packed, shipped and delivered: what a consumer holds when claiming."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlmodel import select

from qc_app.claims import services as claims
from qc_app.db import write
from qc_app.listings.models import LabelPeriod
from qc_app.merchants.models import Membership
from qc_app.orders.models import Order
from qc_app.orders.services import create_order, deliver, pack, ship
from qc_app.sqltypes import utcnow
from tests.conftest import jpeg_bytes, stored_files


@dataclass
class Sold:
    item: Any
    issued: Any
    order: Order

    @property
    def number(self) -> str:
        return str(self.issued.certificate.number)


def guarantee_on(db: Any, world: Any, since: datetime) -> None:
    """merchant1 joined the programme and put 假一赔十 on the gold listing at `since`."""
    if db.exec(select(Membership).where(Membership.merchant_id == world.merchant_a.id)).first():
        return
    with write(db):
        db.add(
            Membership(
                merchant_id=world.merchant_a.id,
                agreement_version="test",
                agreement_sha256="0" * 64,
                signed_by_id=world["merchant1"].id,
                signed_at=since,
            )
        )
        db.add(LabelPeriod(listing_id=world.listing_gold.id, label="guarantee", on_at=since))


def sell(
    flow: Any,
    *,
    delivered_at: datetime | None = None,
    price_paid_fen: int = 300000,
    labelled: bool = True,
    delivered: bool = True,
) -> Sold:
    """`labelled`: merchant1 is in the programme with 假一赔十 on the listing, since long ago.
    `delivered`: False stops once the parcel has shipped."""
    db, world = flow.db, flow.world
    if labelled:
        guarantee_on(db, world, utcnow() - timedelta(days=400))
    item, issued = flow.certified()
    tag = uuid.uuid4().hex[:8].upper()
    order = create_order(
        session=db,
        actor=world["admin1"],
        order_no=f"ORD{tag}",
        listing_id=world.listing_gold.id,
        price_paid_fen=price_paid_fen,
        waybill_no=f"SF{tag}",
        now=utcnow(),
    )
    pack(
        session=db,
        actor=world["inspector1"],
        waybill_no=order.waybill_no,
        item_code=item.code,
        certificate_scan=issued.certificate.number,
        seal_no=f"SEAL-{tag}",
        mass_g="5.03",  # what the flow's intake and lab weighed
        now=utcnow(),
    )
    order = ship(session=db, actor=world["inspector1"], waybill_no=order.waybill_no, now=utcnow())
    if not delivered:
        return Sold(item, issued, order)
    order = deliver(
        session=db, actor=world["admin1"], waybill_no=order.waybill_no, now=delivered_at or utcnow()
    )
    return Sold(item, issued, order)


def file(flow: Any, sold: Sold, **kw: Any) -> claims.Filed:
    """The consumer files a claim on the sold item (material, ¥12 postage, one photo)."""
    args: dict[str, Any] = {
        "order_no": sold.order.order_no,
        "reason": "material",
        "description": "戒指在别家检测为镀金",
        "postage_fen": "1200",
        "uploads": [jpeg_bytes(exif_gps=True)],
        "files": stored_files(flow.app),
        "now": utcnow(),
    }
    args.update(kw)
    return claims.file_claim(session=flow.db, certificate=sold.issued.certificate, **args)


def pdf_bytes(javascript: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if javascript:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hi');"),
            }
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def accept(flow: Any, number: str) -> None:
    """merchant1 accepts the claim: it waits for the platform's decision."""
    claims.merchant_answer(
        session=flow.db,
        actor=flow.world["merchant1"],
        number=number,
        accept=True,
        note="",
        uploads=[],
        files=stored_files(flow.app),
        now=utcnow(),
    )
