"""Finding certificates: by number (as the actor may see them), by item, and their PDFs."""

from __future__ import annotations

from sqlmodel import Session, col, select

from qc_app import storage
from qc_app.auth.models import User
from qc_app.authz import ensure_visible
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.codes import normalize
from qc_app.errors import NotFound
from qc_app.i18n import msg
from qc_app.items.models import Item
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.storage import Storage


def admin_list() -> ListFound:
    """The platform's certificate list: each with its item's code and its shop's name; found
    by number, item code or shop, narrowed by status, material, shop and issue date."""
    query = (
        select(Certificate, Item.code, Merchant.name)
        .join(Item, col(Item.id) == col(Certificate.item_id))
        .join(Merchant, col(Merchant.id) == col(Item.merchant_id))
    )
    spec = ListSpec(
        key=col(Certificate.id),
        search=(col(Merchant.name),),
        exact=(col(Certificate.number), col(Item.code)),
        state=col(Certificate.status),
        states=tuple(CertificateStatus),
        state_kind="certificate",
        material=col(Item.declared_material),
        merchant=col(Item.merchant_id),
        when=col(Certificate.issued_at),
    )
    return spec, query


def find(session: Session, number: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.number == number)).first()


def get_certificate(*, session: Session, actor: User, number: str) -> Certificate:
    certificate = find(session, normalize(number))
    if certificate is None:
        raise NotFound(msg("未找到证书"))
    item = session.get(Item, certificate.item_id)
    ensure_visible(actor, item.merchant_id if item else -1, msg("未找到证书"))
    return certificate


def certificate_pdf(*, session: Session, actor: User, number: str, files: Storage) -> bytes:
    certificate = get_certificate(session=session, actor=actor, number=number)
    return storage.load(files, "certificates", certificate.pdf_sha256, ".pdf")


def certificate_of(*, session: Session, item: Item) -> Certificate | None:
    query = select(Certificate).where(Certificate.item_id == item.id)
    return session.exec(query.order_by(col(Certificate.id).desc())).first()
