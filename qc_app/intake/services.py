"""Consignments, intake at the warehouse, holds and returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from qc_app import audit, storage
from qc_app.auth.models import User
from qc_app.authz import MERCHANT_PORTAL, WAREHOUSE, authorize, ensure_visible
from qc_app.codes import (
    new_consignment_code,
    new_item_code,
    normalize,
)
from qc_app.db import parse_id, write
from qc_app.errors import FieldErrors, LostRace, NotFound, ValidationFailed
from qc_app.i18n import Message, joined, msg
from qc_app.inspection.models import Inspection
from qc_app.inspection.services import decisive_reasons
from qc_app.inspection.workflow import InspectionState
from qc_app.intake.models import Consignment
from qc_app.items import guards, proof, workflow
from qc_app.items.models import Item
from qc_app.items.services import apply, get_item, hold, photo_row
from qc_app.items.workflow import ItemState
from qc_app.listings.models import Listing
from qc_app.lists import ListFound, ListSpec
from qc_app.merchants.models import Merchant
from qc_app.orders.models import Order
from qc_app.orders.services import item_of
from qc_app.orders.workflow import OrderState
from qc_app.rules import pieces
from qc_app.rules.engine import load_ruleset
from qc_app.storage import Storage
from qc_app.units import cg_to_mass, mass_to_cg, parse_mass_g, parse_price_fen, yuan_to_fen
from qc_app.uploads import CleanImage, clean_image, decode_csv
from qc_app.warehouse import mass, once

MAX_ITEMS = 500
ROW_FIELD = "rows-{row}-{field}"  # a form's name for a row's field; rows count from 1


@dataclass
class _Declared:
    """One row of a consignment, every field checked: what an Item is made of."""

    listing: Listing
    material: str
    mass_cg: int
    price_fen: int
    description: str
    article: str | None
    components: list[pieces.Declared]
    order_no: str
    image: CleanImage | None


def create_consignment(
    *,
    session: Session,
    actor: User,
    items: Sequence[Mapping[str, Any]],
    now: datetime,
    files: Storage | None = None,
) -> Consignment:
    """Declare items. A spec may carry "photo" (image bytes, the merchant's own picture).

    Every row is checked before anything is stored (photos included): a refusal names every
    bad field of every row at once, as `rows-<n>-<field>` (n counts from 1, the spec's keys),
    so a form shows each problem next to its field."""
    authorize(actor, MERCHANT_PORTAL)
    assert actor.merchant_id is not None  # a merchant of some shop (authorize)
    if not items or len(items) > MAX_ITEMS:
        raise ValidationFailed(msg("送检单须有 1–{max_items} 件物品", max_items=MAX_ITEMS))
    rules = load_ruleset()
    errors = FieldErrors()
    declared: list[_Declared] = []
    for row, spec in enumerate(items, start=1):
        checked, problems = _check_row(session, actor, rules, spec, files=files)
        for field, problem in problems.items():
            errors.add(ROW_FIELD.format(row=row, field=field), problem)
        if checked is not None:
            declared.append(checked)
    _refuse(errors)
    # Stored (content-addressed) before the transaction: no file I/O while holding the lock.
    digests = {
        row: storage.store(files, "photos", d.image.jpeg, ".jpg")
        for row, d in enumerate(declared, start=1)
        if d.image is not None and files is not None
    }
    with write(session):
        # Again under the write lock: an order named in a row may have been taken meanwhile.
        orders: dict[int, int | None] = {}
        for row, d in enumerate(declared, start=1):
            try:
                orders[row] = _order_for(session, d.listing, d.order_no)
            except ValidationFailed as exc:
                errors.add(ROW_FIELD.format(row=row, field="order_no"), exc.message)
        _refuse(errors)
        consignment = Consignment(
            code=new_consignment_code(),
            merchant_id=actor.merchant_id,
            created_by_id=actor.id or 0,
            created_at=now,
        )
        session.add(consignment)
        session.flush()
        for row, d in enumerate(declared, start=1):
            item = _item(consignment, d, orders[row], now)
            session.add(item)
            if d.image is not None and row in digests:
                session.flush()
                session.add(photo_row(item, d.image, digests[row], "merchant", actor, now))
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


def _refuse(errors: FieldErrors) -> None:
    """The rows' problems at once; one problem alone is said with its row (an API caller
    reads the message)."""
    if len(errors.fields) == 1:
        ((field, problem),) = errors.fields.items()
        row = field.split("-")[1]
        raise ValidationFailed(
            msg("第 {row} 件：{problem}", row=row, problem=problem), fields=errors.fields
        )
    errors.check()


def _check_row(
    session: Session,
    actor: User,
    rules: Any,
    spec: Mapping[str, Any],
    *,
    files: Storage | None,
) -> tuple[_Declared | None, dict[str, Message]]:
    """A row's values checked field by field (every field, not only the first that fails):
    the declaration, or the problem of each bad field (spec key → message)."""
    problems: dict[str, Message] = {}

    def check(field: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except ValidationFailed as exc:
            problems.setdefault(field, exc.message)
            return None

    listing = check("listing_id", _listing_for, session, actor, spec.get("listing_id"))
    article_type = spec.get("article_type")
    parsed = check(
        "article_type" if _article_wrong(rules, article_type, spec) else "components",
        pieces.parse_declared,
        rules,
        article_type,
        spec.get("components"),
    )
    article, components = parsed if parsed is not None else (None, [])
    material = None
    if listing is not None or spec.get("declared_material"):
        material = check("declared_material", _material, rules, spec, listing, components)
    mass = check("mass_g", parse_mass_g, spec.get("mass_g"))
    given_price = spec.get("price_fen")
    price = None
    if given_price is not None or listing is not None:
        price = check(
            "price_fen",
            parse_price_fen,
            given_price if given_price is not None else listing.price_fen,
        )
    order_no = str(spec.get("order_no") or "").strip()
    if listing is not None:
        check("order_no", _order_for, session, listing, order_no)
    image = None
    if spec.get("photo"):
        if files is None:
            problems.setdefault("photo", msg("无法保存照片"))
        else:
            image = check("photo", clean_image, spec["photo"])
    if problems or listing is None or material is None or mass is None or price is None:
        return None, problems
    return _Declared(
        listing=listing,
        material=material,
        mass_cg=mass_to_cg(mass),
        price_fen=price,
        description=str(spec.get("description") or "")[:200],
        article=article,
        components=list(components),
        order_no=order_no,
        image=image,
    ), problems


def _article_wrong(rules: Any, article_type: object, spec: Mapping[str, Any]) -> bool:
    """Whether a refused set piece is the article type's fault (unknown, or missing while
    components are declared) rather than a component's."""
    article = str(article_type).strip() if article_type not in (None, "") else None
    if article is None:
        return bool(spec.get("components"))
    return article not in pieces.articles(rules)


def _listing_for(session: Session, actor: User, given: object) -> Listing:
    """The row's listing, as the merchant gave it: its id (a number, or "#id title" as the
    form's list offers it), or its exact title when only one of the shop's listings has it."""
    text = str(given if given is not None else "").strip()
    if not text:
        raise ValidationFailed(msg("请选择商品"))
    number = text.removeprefix("#").split(maxsplit=1)[0] if text[:1] in "#0123456789" else ""
    if number.isdigit() and (text.startswith("#") or number == text):
        listing = session.get(Listing, parse_id(number, field="listing_id"))
        if listing is None or listing.merchant_id != actor.merchant_id:
            raise ValidationFailed(msg("商品不存在"))
        return listing
    named = list(
        session.exec(
            select(Listing)
            .where(Listing.merchant_id == actor.merchant_id, Listing.title == text)
            .limit(2)
        )
    )
    if not named:
        raise ValidationFailed(msg("商品不存在"))
    if len(named) > 1:
        raise ValidationFailed(msg("有多件商品同名，请从列表中选择（带编号）"))
    return named[0]


def _material(
    rules: Any, spec: Mapping[str, Any], listing: Listing | None, components: Sequence[Any]
) -> str:
    """The row's declared material, known to the rules (the listing's when none is given)."""
    given = str(spec.get("declared_material") or "").strip()
    material = _main_material(spec, listing, components) if listing is not None else given
    rules.declaration(material)
    return material


def _item(consignment: Consignment, d: _Declared, order_id: int | None, now: datetime) -> Item:
    return Item(
        code=new_item_code(),
        consignment_id=consignment.id or 0,
        merchant_id=d.listing.merchant_id,
        listing_id=d.listing.id or 0,
        declared_material=d.material,
        declared_mass_cg=d.mass_cg,
        price_fen=d.price_fen,
        description=d.description,
        article_type=d.article,
        components=list(d.components) or None,
        state=ItemState.DECLARED,
        order_id=order_id,
        created_at=now,
    )


def _main_material(
    spec: Mapping[str, Any], listing: Listing, components: Sequence[Mapping[str, str]]
) -> str:
    """The item's material code: declared, else the listing's; a set piece's is one of its
    components (the listing's when it is one of them, else the first)."""
    given = str(spec.get("declared_material") or "").strip()
    parts = [c["material"] for c in components]
    if not parts:
        return given or listing.material_code
    if given and given not in parts:
        raise ValidationFailed(msg("申报材质 {material} 不在组成部分之中", material=given))
    return given or (listing.material_code if listing.material_code in parts else parts[0])


def _order_for(session: Session, listing: Listing, order_no: object) -> int | None:
    """Order-driven intake: the item is sent in for an order that already exists."""
    if order_no is None or order_no == "":
        return None

    order = session.exec(select(Order).where(Order.order_no == str(order_no).strip())).first()
    if order is None or order.listing_id != listing.id:
        raise ValidationFailed(msg("订单不存在或不属于该商品"))
    if order.state != OrderState.OPEN:
        raise ValidationFailed(msg("订单已不在待发货状态"))
    if item_of(session, order) is not None:
        raise ValidationFailed(msg("该订单已有送检物品"))
    return order.id


def get_consignment(*, session: Session, actor: User, code: str) -> Consignment:
    consignment = session.exec(
        select(Consignment).where(Consignment.code == normalize(code))
    ).first()
    if consignment is None:
        raise NotFound(msg("未找到送检单"))
    ensure_visible(actor, consignment.merchant_id, msg("未找到送检单"))
    return consignment


def consignment_items(*, session: Session, consignment: Consignment) -> list[Item]:
    query = select(Item).where(Item.consignment_id == consignment.id)
    return list(session.exec(query.order_by(Item.id)))  # type: ignore[arg-type]


def consignment_list(*, actor: User) -> ListFound:
    """A merchant's own consignments, newest first; found by consignment number, narrowed by
    the day it was made."""
    query = select(Consignment).where(col(Consignment.merchant_id) == actor.merchant_id)
    spec = ListSpec(
        key=col(Consignment.id),
        exact=(col(Consignment.code),),
        when=col(Consignment.created_at),
    )
    return spec, query


@dataclass(frozen=True)
class ScanResult:
    """What a scanner terminal shows after one scan: a level (ok / warn / error) and a message."""

    outcome: str  # received | held | already_received | go | extra_held | missing_held | ...
    code: str
    level: str
    message: Message
    replay: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The outcome as stored for a replay: the message unrendered, so a replay is shown in
        the language of whoever sees it."""
        return {
            "outcome": self.outcome,
            "code": self.code,
            "level": self.level,
            "message": self.message.as_data(),
        }

    @classmethod
    def replayed(cls, data: Mapping[str, Any]) -> ScanResult:
        said = Message.from_data(data["message"])
        return cls(data["outcome"], data["code"], data["level"], said, replay=True)


def receive_item(
    *,
    session: Session,
    actor: User,
    code: str,
    mass_g: object,
    photo: bytes | None,
    files: Storage,
    now: datetime,
    once_key: str | None = None,
    views: Mapping[str, bytes | None] | None = None,
    dimensions: Mapping[str, object] | None = None,
    no_photo_reason: object = None,
    no_photo_note: object = None,
) -> Item:
    """Intake through the API: a repeated receive is refused (409) unless it repeats an
    Idempotency-Key, which `receive_scan` answers with the first outcome."""
    receive_scan(
        session=session,
        actor=actor,
        code=code,
        mass_g=mass_g,
        photo=photo,
        files=files,
        now=now,
        once_key=once_key,
        repeat_ok=False,
        views=views,
        dimensions=dimensions,
        no_photo_reason=no_photo_reason,
        no_photo_note=no_photo_note,
    )
    return get_item(session=session, actor=actor, code=code)


def receive_scan(
    *,
    session: Session,
    actor: User,
    code: str,
    mass_g: object,
    photo: bytes | None,
    files: Storage,
    now: datetime,
    damage: str = "",
    station: str = "",
    once_key: str | None = None,
    repeat_ok: bool = True,
    views: Mapping[str, bytes | None] | None = None,
    dimensions: Mapping[str, object] | None = None,
    no_photo_reason: object = None,
    no_photo_note: object = None,
) -> ScanResult:
    """Intake: the scanned item is weighed and photographed at the warehouse.

    `photo` is the front view; `views` the others (back, stamp, detail) and `dimensions` what
    identifies the piece; without photos, `no_photo_reason` (proof.no_photo_reasons) and
    `no_photo_note` say why none could be taken: `intake_proof` checks them. A discrepancy
    (lighter than declared beyond the balance tolerance, or damage noted by the inspector)
    puts the item on hold with the reason, in the same transaction. A repeated scan of a
    received item answers "already received" and records nothing.
    """
    key = once.clean_key(once_key)
    asked = once.digest(
        code=normalize(code),
        mass_g=mass_g,
        photo=photo,
        damage=damage,
        **{f"photo_{view}": data for view, data in (views or {}).items() if data},
        **({"dimensions": sorted((dimensions or {}).items())} if dimensions else {}),
        **(
            {"no_photo": [str(no_photo_reason), str(no_photo_note or "")]}
            if no_photo_reason
            else {}
        ),
    )
    item = get_item(session=session, actor=actor, code=code)
    # Recalled after reading the item: a concurrent submit that received it committed its key
    # in the same transaction, so an item read as received always comes with its key.
    prior = once.recall(session, user_id=actor.id, key=key, scope="receive", request=asked)
    if prior is not None:
        session.refresh(item)  # it may have been read just before that commit
        return ScanResult.replayed(prior)
    if repeat_ok and item.received_at is not None:
        return _already_received(item)
    errors = FieldErrors()
    mass_cg = 0
    try:
        mass_cg = mass_to_cg(parse_mass_g(mass_g))
    except ValidationFailed as exc:
        errors.add("mass_g", exc.message)
    taken = intake_proof(
        item,
        {"front": photo, **(views or {})},
        dimensions or {},
        no_photo_reason=no_photo_reason,
        no_photo_note=no_photo_note,
        errors=errors,
    )
    # Stored (content-addressed) before the transaction, as at declaration.
    digests = {
        view: storage.store(files, "photos", i.jpeg, ".jpg") for view, i in taken.images.items()
    }
    try:
        with write(session):
            item.dimensions = taken.dimensions or None
            item.no_photo = taken.no_photo
            result = _receive(
                session, actor, item, mass_cg, taken.images, digests, damage, station, now
            )
            once.remember(
                session,
                user_id=actor.id,
                key=key,
                scope="receive",
                request=asked,
                outcome=result.as_dict(),
                now=now,
            )
    except LostRace:
        # A concurrent double submit won the race: answer with its outcome, record nothing.
        prior = once.recall(session, user_id=actor.id, key=key, scope="receive", request=asked)
        if prior is not None:
            return ScanResult.replayed(prior)
        session.expire_all()
        item = get_item(session=session, actor=actor, code=code)
        if repeat_ok and item.received_at is not None:
            return _already_received(item)
        raise
    return result


@dataclass(frozen=True)
class IntakeProof:
    """What intake took, checked: the cleaned photos by view, the dimensions as signed, and
    the recorded reason when no photo could be taken (None when there are photos)."""

    images: dict[str, CleanImage]
    dimensions: dict[str, str]
    no_photo: dict[str, str] | None


def intake_proof(
    item: Item,
    photos: Mapping[str, bytes | None],
    dimensions: Mapping[str, object],
    *,
    no_photo_reason: object = None,
    no_photo_note: object = None,
    errors: FieldErrors | None = None,
) -> IntakeProof:
    """The one rule of what intake must take (issue 19, proof of this very piece; issue 18,
    photos required): a complete set of photos (front, back, and the stamp or a detail; the
    stamp for a piece with precious metal), each a clean image, unless the inspector records
    why none could be taken; the dimensions that identify the piece's article type (and its
    main stone's, for a set piece with stones) are given and within range. Every problem is
    named by its form field (`errors`, shared with the caller's own checks) before anything
    is stored."""
    errors = errors or FieldErrors()
    fields = proof.photo_fields()
    unknown = sorted(v for v, data in photos.items() if data and v not in proof.views())
    if unknown:
        raise ValidationFailed(msg("未知的照片视角：{views}", views=", ".join(unknown)))
    images = {}
    for view, data in photos.items():
        if not data:
            continue
        try:
            images[view] = clean_image(data)
        except ValidationFailed as exc:
            errors.add(
                fields[view],
                msg("照片（{view}）：{problem}", view=proof.VIEW_LABELS[view], problem=exc.message),
            )
    no_photo, reason_refused = None, False
    try:
        no_photo = proof.parse_no_photo(no_photo_reason, no_photo_note)
    except ValidationFailed as exc:
        reason_refused = True
        for name, said in exc.fields.items():
            errors.add(name, said)
    given = {v for v, data in photos.items() if data}
    metal = _has_metal(item)
    if given and no_photo is not None:
        errors.add("no_photo_reason", msg("已拍照片时不填未拍原因"))
    elif given and (missing := proof.missing_views(given, metal=metal)):
        errors.add("photos", msg("照片不全，还须拍：{views}", views=tuple(missing)))
    elif not given and no_photo is None and not reason_refused:
        wanted = tuple(proof.missing_views((), metal=metal))
        errors.add("photos", msg("请拍照片（{views}），或选择无法拍照的原因", views=wanted))
    try:
        measured = proof.parse_dimensions(
            dimensions, article_type=item.article_type, has_stone=_has_stones(item)
        )
    except ValidationFailed as exc:  # each dimension's problem by its key, else as a whole
        for key, problem in exc.fields.items():
            errors.add(f"dimensions.{key}", problem)
        if not exc.fields:
            errors.add("dimensions", exc.message)
        measured = {}
    errors.check()
    return IntakeProof(images, measured, no_photo)


def identifying_dimensions(item: Item) -> list[proof.Dimension]:
    """The dimensions intake must measure of this item (the intake page's fields)."""
    return proof.required_dimensions(item.article_type, has_stone=_has_stones(item))


def _has_stones(item: Item) -> bool:
    rules = load_ruleset()
    return any(rules.family_of(c["material"]) != pieces.METAL for c in item.components or ())


def _has_metal(item: Item) -> bool:
    """A piece of precious metal, or set in it: its stamp must be photographed."""
    rules = load_ruleset()
    materials = [item.declared_material, *(c["material"] for c in item.components or ())]
    return any(rules.family_of(m) == pieces.METAL for m in materials)


def _already_received(item: Item) -> ScanResult:
    weighed = "—" if item.received_mass_cg is None else f"{cg_to_mass(item.received_mass_cg)} g"
    return ScanResult(
        "already_received",
        item.code,
        "warn",
        msg("{code} 已收货（{weighed}），未重复记录", code=item.code, weighed=weighed),
    )


def _receive(
    session: Session,
    actor: User,
    item: Item,
    mass_cg: int,
    images: Mapping[str, CleanImage],
    digests: Mapping[str, str],
    damage: str,
    station: str,
    now: datetime,
) -> ScanResult:
    item.received_mass_cg = mass_cg
    item.received_by_id = actor.id
    item.received_at = now
    apply(
        session,
        item,
        "receive",
        actor,
        now,
        guards.Weighing(mass_cg),
        mass_g=str(cg_to_mass(mass_cg)),
        declared_mass_g=str(cg_to_mass(item.declared_mass_cg)),
        photo_sha256=digests.get("front"),
        station=station,
        **({"photos": dict(digests)} if len(digests) > 1 else {}),
        **({"dimensions": item.dimensions} if item.dimensions else {}),
        **({"no_photo": item.no_photo} if item.no_photo else {}),
    )
    for view, image in images.items():
        session.add(photo_row(item, image, digests[view], "intake", actor, now, view=view))
    problems: list[Message] = []
    finding = mass.intake_finding(item.declared_mass_cg, mass_cg)
    if finding:
        problems.append(finding.message)
    if damage.strip():
        problems.append(msg("破损：{damage}", damage=damage.strip()))
    grams = f"{cg_to_mass(mass_cg)} g"
    if not problems:
        return ScanResult(
            "received",
            item.code,
            "ok",
            msg("已收货 {code} · {grams}", code=item.code, grams=grams),
        )
    reason = joined(problems)
    hold(session, actor, item, reason, now, station=station)
    return ScanResult(
        "held",
        item.code,
        "error",
        msg("已收货但挂起 {code}：{reason}", code=item.code, reason=reason),
    )


@dataclass(frozen=True)
class Progress:
    """Expected against scanned for one consignment at intake."""

    expected: int
    received: int
    waiting: list[Item]
    held: list[Item]


def consignment_progress(items: Sequence[Item]) -> Progress:
    return Progress(
        expected=len(items),
        received=sum(1 for i in items if i.received_at is not None),
        waiting=[i for i in items if i.state == ItemState.DECLARED],
        held=[i for i in items if i.state == ItemState.ON_HOLD],
    )


def scan_at_consignment(
    *,
    session: Session,
    actor: User,
    consignment_code: str,
    code: str,
    station: str,
    now: datetime,
    once_key: str | None = None,
) -> ScanResult:
    """An item label scanned while a consignment is open at the intake terminal.

    Expected and waiting: go on to weigh it. Already received: say so. Declared in another
    consignment (an extra item in this parcel): put it on hold with the reason.
    """
    key = once.clean_key(once_key)
    scanned = normalize(code)
    asked = once.digest(consignment=normalize(consignment_code), code=scanned)
    consignment = get_consignment(session=session, actor=actor, code=consignment_code)
    item = session.exec(select(Item).where(Item.code == scanned)).first()
    prior = once.recall(session, user_id=actor.id, key=key, scope="scan", request=asked)
    if prior is not None:  # read after the item, as in receive_scan
        return ScanResult.replayed(prior)
    if item is None:
        return ScanResult(
            "unknown",
            scanned,
            "error",
            msg("未知标签 {scanned}：不是本系统的物品编号，请人工核对", scanned=scanned),
        )
    if item.received_at is not None:
        return _already_received(item)
    if item.consignment_id == consignment.id:
        if item.state == ItemState.DECLARED:
            return ScanResult("go", item.code, "ok", msg("请称重 {code}", code=item.code))
        return ScanResult(
            "not_waiting",
            item.code,
            "warn",
            msg(
                "{code} 当前为“{state}”：{value}",
                code=item.code,
                state=workflow.STATE_WORDS[ItemState(item.state)],
                value=item.hold_reason or "",
            ),
        )
    if item.state != ItemState.DECLARED:
        state = workflow.STATE_WORDS[ItemState(item.state)]
        return ScanResult(
            "not_waiting",
            item.code,
            "warn",
            msg("{code} 当前为“{state}”", code=item.code, state=state),
        )
    home = session.get(Consignment, item.consignment_id)
    home_code = home.code if home else "?"
    reason = msg(
        "多余物品：随送检单 {consignment} 到货，申报在 {home}",
        consignment=consignment.code,
        home=home_code,
    )
    try:
        with write(session):
            hold(session, actor, item, reason, now, station=station)
            result = ScanResult(
                "extra_held",
                item.code,
                "error",
                msg("已挂起 {code}：{reason}", code=item.code, reason=reason),
            )
            once.remember(
                session,
                user_id=actor.id,
                key=key,
                scope="scan",
                request=asked,
                outcome=result.as_dict(),
                now=now,
            )
    except LostRace:
        prior = once.recall(session, user_id=actor.id, key=key, scope="scan", request=asked)
        if prior is not None:
            return ScanResult.replayed(prior)
        raise
    return result


def close_consignment(
    *, session: Session, actor: User, code: str, station: str, now: datetime
) -> list[Item]:
    """Intake of the parcel is done: every expected item that did not arrive goes on hold."""
    authorize(actor, WAREHOUSE)
    consignment = get_consignment(session=session, actor=actor, code=code)
    missing = [
        i
        for i in consignment_items(session=session, consignment=consignment)
        if i.state == ItemState.DECLARED
    ]
    with write(session):
        for item in missing:
            hold(
                session,
                actor,
                item,
                msg("缺失：送检单 {consignment} 收货完成时未到", consignment=consignment.code),
                now,
                station=station,
            )
        audit.record(
            session,
            actor=actor,
            action="intake_closed",
            entity="consignment",
            entity_id=consignment.code,
            at=now,
            missing=[i.code for i in missing],
            station=station,
        )
    return missing


def waiting_list() -> ListFound:
    """Consignments with items still expected at intake and how many, oldest first, with the
    shop's name; found by consignment number or shop, narrowed by shop and day made. Only the
    page's consignments are counted (`waiting_counts`), not every one before paging."""
    # Each consignment once, by its first item still expected: the database walks the
    # expected items in consignment order (index state, consignment_id) and stops at a page.
    earlier = aliased(Item)
    first = ~exists().where(
        col(earlier.consignment_id) == col(Item.consignment_id),
        col(earlier.state) == ItemState.DECLARED,
        col(earlier.id) < col(Item.id),
    )
    query = (
        select(Consignment, Merchant.name)
        .select_from(Item)
        .join(Consignment, col(Consignment.id) == col(Item.consignment_id))
        .join(Merchant, col(Merchant.id) == col(Consignment.merchant_id))
        .where(Item.state == ItemState.DECLARED, first)
    )
    spec = ListSpec(
        key=col(Item.consignment_id),
        search=(col(Merchant.name),),
        exact=(col(Consignment.code),),
        merchant=col(Consignment.merchant_id),
        when=col(Consignment.created_at),
        newest_first=False,
        complete=waiting_counts,
    )
    return spec, query


def waiting_counts(session: Session, rows: Sequence[Any]) -> list[Any]:
    """(consignment, items still expected, shop name) for a page's (consignment, shop name)
    rows: one grouped query over the page's ids."""
    ids = [consignment.id for consignment, _name in rows]
    counts = dict(
        session.exec(
            select(col(Item.consignment_id), func.count())
            .where(col(Item.consignment_id).in_(ids), Item.state == ItemState.DECLARED)
            .group_by(col(Item.consignment_id))
        ).all()
    )
    return [(consignment, counts.get(consignment.id, 0), name) for consignment, name in rows]


# -- CSV import (merchant) ----------------------------------------------------------------------

CSV_COLUMNS = (
    "listing_id",
    "declared_material",
    "mass_g",
    "price_yuan",
    "price_fen",
    "description",
    "article_type",
    "components",  # a set piece's parts, as pieces.parse_text reads them
)
CSV_REQUIRED = ("listing_id", "mass_g")


class CsvRejected(ValidationFailed):
    """The whole file is refused; `rows` lists (line number, message) for every bad row."""

    code = "csv_rejected"

    def __init__(self, rows: list[tuple[int, Message]]) -> None:
        super().__init__(
            msg("CSV 有 {rows} 处错误，未保存任何物品", rows=len(rows)),
        )
        self.rows = rows


def csv_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, item spec) per data row; the header is line 1. Refuses a bad header."""
    import csv
    import io

    try:
        text = decode_csv(data)
    except ValidationFailed as exc:
        raise CsvRejected([(1, exc.message)]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRejected([(1, msg("文件为空"))]) from None
    except csv.Error as exc:
        raise CsvRejected([(1, msg("CSV 格式错误：{exc}", exc=exc))]) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in CSV_REQUIRED if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise CsvRejected(
            [
                (
                    1,
                    msg(
                        "表头须为 {csv_columns} 中的列，且包含 {csv_required}",
                        csv_columns=", ".join(CSV_COLUMNS),
                        csv_required=", ".join(CSV_REQUIRED),
                    ),
                )
            ]
        )
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                rows.append((line, {"_error": len(values)}))
                continue
            spec: dict[str, Any] = {k: v.strip() for k, v in zip(header, values, strict=True)}
            if not spec.get("declared_material"):
                spec.pop("declared_material", None)
            if spec.get("price_yuan"):
                spec["price_fen"] = yuan_to_fen(spec["price_yuan"])
            spec.pop("price_yuan", None)
            if not spec.get("price_fen"):
                spec.pop("price_fen", None)
            rows.append((line, spec))
    except csv.Error as exc:
        raise CsvRejected([(reader.line_num, msg("CSV 格式错误：{exc}", exc=exc))]) from None
    return rows


def import_consignment_csv(
    *, session: Session, actor: User, data: bytes, now: datetime
) -> Consignment:
    """A consignment from a CSV file: every row is checked first; one bad row saves nothing,
    and every bad row is reported with its line number and reason."""
    authorize(actor, MERCHANT_PORTAL)
    assert actor.merchant_id is not None  # a merchant of some shop (authorize)
    rows = csv_rows(data)
    if not rows:
        raise CsvRejected([(2, msg("没有物品行"))])
    if len(rows) > MAX_ITEMS:
        raise CsvRejected([(1, msg("最多 {max_items} 行", max_items=MAX_ITEMS))])
    rules = load_ruleset()
    errors: list[tuple[int, Message]] = []
    for line, spec in rows:
        if "_error" in spec:
            errors.append((line, msg("列数为 {_error}，与表头不符", _error=spec["_error"])))
            continue
        _, problems = _check_row(session, actor, rules, spec, files=None)
        errors.extend((line, problem) for problem in problems.values())
    if errors:
        raise CsvRejected(errors)
    return create_consignment(
        session=session, actor=actor, items=[spec for _, spec in rows], now=now
    )


def failure_notes(*, session: Session, items: Sequence[Item]) -> dict[int, dict[str, Any]]:
    """For failed items: the decisive reasons of the approved inspection and the return waybill.

    One query for the whole page: the latest approved inspection of every failed item."""

    failed = [i for i in items if i.state in (ItemState.RETURN_TO_MERCHANT, ItemState.RETURNED)]
    if not failed:
        return {}
    approved = session.exec(
        select(Inspection)
        .where(
            col(Inspection.item_id).in_([i.id for i in failed]),
            Inspection.state == InspectionState.APPROVED,
        )
        .order_by(col(Inspection.id))
    )
    latest = {inspection.item_id: inspection for inspection in approved}
    return {
        item.id or 0: {
            "reasons": decisive_reasons(latest.get(item.id or 0)),
            "waybill": item.return_waybill_no,
        }
        for item in failed
    }
