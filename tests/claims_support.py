"""A certified item sold, packed, shipped and delivered: what a consumer holds when claiming."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from qc_app.orders.models import Order
from qc_app.orders.services import create_order, deliver, pack, ship
from qc_app.sqltypes import utcnow


@dataclass
class Sold:
    item: Any
    issued: Any
    order: Order

    @property
    def number(self) -> str:
        return str(self.issued.certificate.number)


def sell(flow: Any, *, delivered_at: datetime | None = None, price_paid_fen: int = 300000) -> Sold:
    db, world = flow.db, flow.world
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
    ship(session=db, actor=world["inspector1"], waybill_no=order.waybill_no, now=utcnow())
    order = deliver(
        session=db, actor=world["admin1"], waybill_no=order.waybill_no, now=delivered_at or utcnow()
    )
    return Sold(item, issued, order)


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
