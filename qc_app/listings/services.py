from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, and_, col, or_, select

from qc_app import audit
from qc_app.auth.models import User
from qc_app.authz import MERCHANT_PORTAL, Role, authorize, ensure_visible
from qc_app.db import write
from qc_app.errors import Conflict, FieldErrors, LostRace, NotFound, ValidationFailed
from qc_app.i18n import msg
from qc_app.listings.consistency import TitleWarning, check_title
from qc_app.listings.models import LabelPeriod, Listing
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.merchants.services import current_membership
from qc_app.outbox.events import emit
from qc_app.programmes import services as programmes
from qc_app.programmes.models import Programme
from qc_app.rules.engine import load_ruleset
from qc_app.units import clean_text, parse_price_fen


def create_listing(
    *,
    session: Session,
    actor: User,
    title: object,
    brand: object,
    material_code: object,
    price_fen: object,
    style: object = "",
    programme: object = "",
    now: datetime,
    price_field: str = "price_fen",
) -> Listing:
    """`programme`: the code of the guarantee programme its label names (default 假一赔十).
    Every field's problem is named at once; the price under `price_field` (a form names it
    by what the merchant types, price_yuan)."""
    authorize(actor, MERCHANT_PORTAL)
    assert actor.merchant_id is not None  # a merchant of some shop (authorize)
    errors = FieldErrors()
    typed = {"title": title, "brand": brand, "style": style}
    values = {
        field: errors.take(field, clean_text, typed[field], field, required=r, max_length=m) or ""
        for field, (r, m) in TEXT_LIMITS.items()
    }
    code = errors.take(
        "material_code", clean_text, material_code, "material_code", required=True, max_length=32
    )
    if code:
        errors.take("material_code", load_ruleset().declaration, code)
    chosen = errors.take("programme", programmes.by_code, session, programme, now)
    price = errors.take(price_field, parse_price_fen, price_fen)
    errors.check()
    assert code is not None and chosen is not None and price is not None
    listing = Listing(
        merchant_id=actor.merchant_id,
        title=values["title"],
        brand=values["brand"],
        style=values["style"],
        material_code=code,
        price_fen=price,
        programme_id=chosen.id or 0,
        created_at=now,
    )
    with write(session):
        session.add(listing)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="listing_created",
            entity="listing",
            entity_id=listing.id or 0,
            at=now,
            title=listing.title,
            material=code,
            price_fen=listing.price_fen,
            programme=chosen.code,
        )
    return listing


# What a merchant may change on a listing, and how each is read (a form's or JSON's value).
# The free-text fields: (required, longest).
TEXT_LIMITS = {"title": (True, 120), "brand": (False, 60), "style": (False, 60)}
EDITABLE = ("title", "brand", "style", "material_code", "price_fen")


def edit_listing(
    *,
    session: Session,
    actor: User,
    listing_id: int,
    changes: Mapping[str, object],
    version: object = None,
    now: datetime,
) -> tuple[Listing, list[TitleWarning]]:
    """The merchant edits its listing (title, brand, style, declared material, price) and gets
    the title check's warnings for what it now says (issue 18).

    Every field's problem is named at once (FieldErrors). The declared material cannot change
    once a certificate was issued under the listing: the certificate, the consumer's page and
    a 假一赔十 claim all tie the item to this listing's material, and changing it would make a
    signed certificate contradict the listing it proves (a real platform asks for a new
    listing then). Items declared before keep their own declared material either way. Title,
    brand, style and price may change at any time: orders keep the price they were placed at.
    `version`, when given, is the one the merchant's form was read at: an edit made on a page
    someone else has since changed is refused (409) rather than silently undoing theirs; two
    edits at once, one wins (db.write's LostRace) and the other is refused the same way.
    """
    authorize(actor, MERCHANT_PORTAL)
    listing = get_listing(session=session, actor=actor, listing_id=listing_id)
    rules = load_ruleset()
    errors = FieldErrors()
    wanted: dict[str, object] = {}
    for field, (required, longest) in TEXT_LIMITS.items():
        if field in changes:
            try:
                wanted[field] = clean_text(
                    changes[field], field, required=required, max_length=longest
                )
            except ValidationFailed as exc:
                errors.add(field, exc.message)
    if "material_code" in changes:
        try:
            code = clean_text(
                changes["material_code"], "material_code", required=True, max_length=32
            )
            rules.declaration(code)
            wanted["material_code"] = code
        except ValidationFailed as exc:
            errors.add("material_code", exc.message)
    if "price_fen" in changes:
        try:
            wanted["price_fen"] = parse_price_fen(changes["price_fen"])
        except ValidationFailed as exc:
            errors.add("price_fen", exc.message)
    if wanted.get("material_code", listing.material_code) != listing.material_code and _certified(
        session, listing
    ):
        errors.add(
            "material_code",
            msg("已有证书按此商品的申报材质签发，不能再改材质；请新建商品"),
        )
    errors.check()
    if version not in (None, "") and str(version) != str(listing.version):
        raise LostRace(msg("商品已被修改（可能在另一个窗口）：请刷新后再改"))
    changed = {k: v for k, v in wanted.items() if getattr(listing, k) != v}
    if changed:
        with write(session):
            before = {k: getattr(listing, k) for k in changed}
            for field, value in changed.items():
                setattr(listing, field, value)
            session.add(listing)
            audit.record(
                session,
                actor=actor,
                action="listing_edited",
                entity="listing",
                entity_id=listing.id or 0,
                at=now,
                before=before,
                after=changed,
            )
    return listing, check_title(listing.title, listing.material_code, rules)


def _certified(session: Session, listing: Listing) -> bool:
    """Whether any certificate was issued for an item of this listing (revoked ones too: they
    were signed with its material)."""
    # Plain SQL: the certificates package depends on listings, not the other way round.
    query = text(
        "SELECT 1 FROM certificates c JOIN items i ON i.id = c.item_id "
        "WHERE i.listing_id = :listing LIMIT 1"
    )
    return session.execute(query, {"listing": listing.id}).first() is not None


def set_programme(
    *, session: Session, actor: User, listing_id: int, programme: object, now: datetime
) -> Listing:
    """The merchant names another programme for the listing; orders placed before keep theirs."""
    listing = get_listing(session=session, actor=actor, listing_id=listing_id)
    authorize(actor, MERCHANT_PORTAL)
    chosen = programmes.by_code(session, programme, now)
    with write(session):
        before = session.get(Programme, listing.programme_id)
        listing.programme_id = chosen.id or 0
        session.add(listing)
        audit.record(
            session,
            actor=actor,
            action="listing_programme",
            entity="listing",
            entity_id=listing.id or 0,
            at=now,
            before=before.code if before else None,
            after=chosen.code,
        )
    return listing


def get_listing(*, session: Session, actor: User, listing_id: int) -> Listing:
    # Every caller's id comes through an <int:> route, which web.DatabaseInt stops at MAX_DB_INT.
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(msg("未找到商品"))
    ensure_visible(actor, listing.merchant_id, msg("未找到商品"))
    return listing


def merchant_listings(*, session: Session, actor: User) -> list[Listing]:
    query = select(Listing).where(Listing.merchant_id == actor.merchant_id)
    return list(session.exec(query.order_by(Listing.id.desc())))  # type: ignore[union-attr]


def listing_list(*, actor: User) -> ListFound:
    """Listings with their shop's name, newest first: a merchant's own only (whatever it asks
    for), every shop's for the platform; found by title or brand, narrowed by material, shop
    and the day the listing was made."""
    query = select(Listing, Merchant.name).join(
        Merchant, col(Merchant.id) == col(Listing.merchant_id)
    )
    shop = actor.role == Role.MERCHANT
    if shop:
        query = query.where(col(Listing.merchant_id) == actor.merchant_id)
    spec = ListSpec(
        key=col(Listing.id),
        search=(col(Listing.title), col(Listing.brand), col(Merchant.name)),
        material=col(Listing.material_code),
        merchant=None if shop else col(Listing.merchant_id),
        when=col(Listing.created_at),
    )
    return spec, query


def _set_labels(
    session: Session, listing: Listing, *, authentic: bool, guarantee: bool, now: datetime
) -> None:
    """Assign the labels and keep their periods; inside the caller's transaction."""
    closing: dict[str, list[int]] = {}
    for label, wanted in (("authentic", authentic), ("guarantee", guarantee)):
        was = getattr(listing, f"label_{label}")
        if was == wanted:
            continue
        setattr(listing, f"label_{label}", wanted)
        if wanted:
            session.add(LabelPeriod(listing_id=listing.id or 0, label=label, on_at=now))
        else:
            closing[label] = [listing.id or 0]
    _close_periods(session, closing, now)
    session.add(listing)


def _close_periods(session: Session, closing: dict[str, list[int]], now: datetime) -> None:
    """End the open periods of each label on the listings given for it, in one query."""
    wanted = [
        and_(LabelPeriod.label == label, col(LabelPeriod.listing_id).in_(ids))
        for label, ids in closing.items()
        if ids
    ]
    if not wanted:
        return
    query = select(LabelPeriod).where(or_(*wanted), LabelPeriod.off_at == None)  # noqa: E711
    for period in session.exec(query):
        period.off_at = now
        session.add(period)


def set_labels(
    *,
    session: Session,
    actor: User,
    listing_id: int,
    authentic: bool,
    guarantee: bool,
    now: datetime,
) -> Listing:
    """Switch a listing's labels. 假一赔十 rides on 鉴定验真: no guarantee without the test."""

    listing = get_listing(session=session, actor=actor, listing_id=listing_id)
    authorize(actor, MERCHANT_PORTAL)
    if guarantee and not authentic:
        raise ValidationFailed(
            msg("开通假一赔十须同时开通鉴定验真"),
        )
    with write(session):
        if (authentic or guarantee) and current_membership(session, listing.merchant_id) is None:
            raise Conflict(
                msg("请先在权益中心签署协议，开通鉴定验真服务"),
                code="not_in_programme",
            )
        before = {"authentic": listing.label_authentic, "guarantee": listing.label_guarantee}
        _set_labels(session, listing, authentic=authentic, guarantee=guarantee, now=now)
        audit.record(
            session,
            actor=actor,
            action="listing_labels",
            entity="listing",
            entity_id=listing.id or 0,
            at=now,
            before=before,
            after={"authentic": authentic, "guarantee": guarantee},
        )
        if before != {"authentic": authentic, "guarantee": guarantee}:
            labels_changed(session, listing, now)
    return listing


def labels_changed(session: Session, listing: Listing, now: datetime) -> None:
    """Tell the platform the listing's labels now (it shows or drops them on the listing)."""
    emit(
        session,
        type="listing.labels_changed",
        subject=f"listing:{listing.id}",
        merchant_id=listing.merchant_id,
        at=now,
        listing_id=listing.id,
        authentic=listing.label_authentic,
        guarantee=listing.label_guarantee,
    )


def switch_labels_off(session: Session, merchant_id: int, now: datetime) -> int:
    """Every label of the merchant's listings off (it left the programme), inside the caller's
    transaction; returns how many listings had one."""
    labelled = list(
        session.exec(
            select(Listing).where(
                Listing.merchant_id == merchant_id,
                or_(col(Listing.label_authentic), col(Listing.label_guarantee)),
            )
        )
    )
    closing = {
        "authentic": [x.id or 0 for x in labelled if x.label_authentic],
        "guarantee": [x.id or 0 for x in labelled if x.label_guarantee],
    }
    for listing in labelled:
        listing.label_authentic = listing.label_guarantee = False
        session.add(listing)
        labels_changed(session, listing, now)
    _close_periods(session, closing, now)
    return len(labelled)
