"""Issuing a certificate: the signed payload, the rendered and PAdES-signed PDF, the row.

Issuance does the slow part (payload, signature, PDF, file) before taking the write lock; the
row, the item's transition and the audit event then commit together. The PDF is stored before
the row, so a crash leaves at most an unreferenced file, never a number without a PDF.
`prepare` writes nothing: the one write that may precede it (a PDF-signing certificate for a
body without one) is `signers_for`, a step of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session, col, select

from qc_app import storage
from qc_app.auth.models import User
from qc_app.certificates import ca, pades, payload, signing
from qc_app.certificates.fonts import find_cjk_font
from qc_app.certificates.keys import signer_for
from qc_app.certificates.layout import Layout, layout_path, load_layout
from qc_app.certificates.models import Certificate, CertificateStatus
from qc_app.certificates.pdf import CertificateDocument, render_certificate_pdf
from qc_app.certificates.properties import (
    dimension_rows,
    grading_rows,
    load_vocabulary,
    part_rows,
    value_text,
)
from qc_app.codes import (
    check_code_digest,
    format_check_code,
    new_certificate_number,
    new_check_code,
)
from qc_app.config import Config
from qc_app.db import write
from qc_app.errors import Conflict
from qc_app.i18n import msg
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.inspection.services import latest_approved
from qc_app.items import guards, workflow
from qc_app.items.models import Item
from qc_app.items.proof import no_photo_words
from qc_app.items.services import apply, get_item, item_photos, proof_photos
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.rules.engine import load_ruleset
from qc_app.storage import Storage


@dataclass(frozen=True)
class IssuingSetup:
    """What issuance needs from the deployment, passed in explicitly."""

    passphrase: str
    files: Storage
    base_url: str
    certificates_dir: Path
    font: str | None
    check_code_key: bytes  # only the keyed digest of a check code is stored (codes.py)
    zone: tzinfo  # the certificate's issue date is printed in this zone

    @classmethod
    def from_config(cls, config: Config, files: Storage) -> IssuingSetup:
        return cls(
            passphrase=config.signing_passphrase(),
            files=files,
            base_url=config.BASE_URL,
            certificates_dir=config.CERTIFICATES_DIR,
            font=config.CJK_FONT,
            check_code_key=config.CHECK_CODE_KEY,
            zone=config.zone,
        )


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    check_code: str
    verify_url: str


# What a certificate is made from: the approved inspection, its body, the merchant, the
# listing, the analyst and the reviewer.
Context = tuple[Inspection, TestingBody, Merchant, Listing, User, User]


def context_of(session: Session, item: Item) -> Context:
    inspection = latest_approved(session=session, item=item)
    if inspection is None:
        raise Conflict(msg("该物品没有审核通过的检测结果"))
    body = session.get(TestingBody, inspection.testing_body_id)
    merchant = session.get(Merchant, item.merchant_id)
    listing = session.get(Listing, item.listing_id)
    analyst = session.get(User, inspection.analyst_id)
    reviewer = session.get(User, inspection.reviewer_id) if inspection.reviewer_id else None
    if not (body and merchant and listing and analyst and reviewer):
        raise Conflict(msg("出证所需的记录不完整"))
    return inspection, body, merchant, listing, analyst, reviewer


@lru_cache(maxsize=32)
def _layout(certificates_dir: Path, body_code: str, _stamp: float) -> Layout:
    return load_layout(certificates_dir, body_code)


def layout_for(certificates_dir: Path, body_code: str) -> Layout:
    """The body's layout, parsed once per version of its file (an edit applies at once)."""
    stamp = layout_path(certificates_dir, body_code).stat().st_mtime
    return _layout(certificates_dir, body_code, stamp)


@dataclass(frozen=True)
class Signers:
    """The Ed25519 signer of the payload and the testing body's PDF signer."""

    payload: signing.Signer
    pdf: pades.PadesSigner


def signers_for(
    *, session: Session, setup: IssuingSetup, body: TestingBody, now: datetime
) -> Signers:
    """The signers for a certificate from `body`. A body without a PDF-signing certificate gets
    one from the platform CA here, committed in its own transaction: the one write before a
    certificate is prepared, made as a step of its own so that `prepare` writes nothing."""
    signer = signer_for(session, setup.passphrase)
    ca.ensure_body_credential(
        session=session, passphrase=setup.passphrase, body_code=body.code, now=now
    )
    return Signers(signer, ca.pades_signer_for(session, setup.passphrase, body))


@dataclass(frozen=True)
class Prepared:
    """A signed, rendered certificate not yet stored: the slow part, done outside the lock."""

    certificate: Certificate
    check_code: str
    verify_url: str
    pdf: bytes


def prepare(
    *,
    session: Session,
    actor: User,
    item: Item,
    context: Context,
    signers: Signers,
    setup: IssuingSetup,
    now: datetime,
) -> Prepared:
    """Sign and render a certificate for `item`; reads, and writes nothing."""
    inspection, body, merchant, listing, analyst, reviewer = context
    signer, pdf_signer = signers.payload, signers.pdf
    photos = item_photos(session=session, item=item)
    views = proof_photos(photos)
    # The certificate's picture: the front of the intake set, else the latest photo as before;
    # none for an item received without photos (the merchant's own is no proof of the piece):
    # the certificate says why instead.
    photo = views.get("front") or (photos[-1] if photos and not item.no_photo else None)
    photo_bytes = storage.load(setup.files, "photos", photo.sha256, ".jpg") if photo else None
    measured = inspection.measurements
    number = new_certificate_number(body.cert_prefix)
    check_code = new_check_code()
    url_signature = signer.sign_url(number)
    url = setup.base_url + signing.qr_path(number, signer.kid, url_signature)
    signed = payload.certificate_payload(
        number=number,
        item={"code": item.code, "description": item.description},
        merchant={"id": str(merchant.id), "name": merchant.name},
        listing={"id": str(listing.id), "title": listing.title, "brand": listing.brand},
        testing_body={"code": body.code, "name": body.name_zh, "cma": body.cma_no},
        material={
            "code": inspection.material_code,
            "name_zh": inspection.material_name_zh,
            "name_en": inspection.material_name_en,
            "declared": item.declared_material,
        },
        measured={k: value_text(v) for k, v in measured.items() if k != "observations"},
        conclusion=inspection.verdict,
        photo_sha256=photo.sha256 if photo else None,
        issued_at=now.isoformat(timespec="seconds"),
        rule_version=inspection.rule_version,
        kid=signer.kid,
        components=payload.signed_parts(inspection.parts),
        grading=dict(inspection.grading) if inspection.grading else None,
        proof=payload.signed_proof(
            [(view, p.sha256) for view, p in views.items()], item.dimensions, item.no_photo
        ),
    )
    signature = signer.sign(signed)
    observations = measured.get("observations")
    document = CertificateDocument(
        number=number,
        check_code=format_check_code(check_code),
        verify_url=url,
        issued_at=now,
        item_code=item.code,
        item_name_zh=inspection.material_name_zh,
        item_name_en=inspection.material_name_en,
        conclusion_zh=f"{inspection.material_name_zh}，检测结果与申报一致",
        conclusion_en=f"{inspection.material_name_en}; matches the declaration",
        measurements=load_vocabulary(setup.certificates_dir).rows(
            measured, load_ruleset(inspection.rule_version).fields(inspection.family)
        )
        + part_rows(inspection.parts or [])
        + grading_rows(inspection.grading)
        + dimension_rows(item.dimensions),
        merchant_name=merchant.name,
        listing_title=listing.title,
        testing_body_zh=body.name_zh,
        testing_body_en=body.name_en,
        cma_no=body.cma_no,
        cnas_no=body.cnas_no,
        analyst_name=analyst.display_name,
        reviewer_name=reviewer.display_name,
        photo_jpeg=photo_bytes,
        rule_version=inspection.rule_version,
        kid=signer.kid,
        payload_json=signed,
        signature_b64=signature,
        remarks=str(observations) if observations else None,
        no_photo=no_photo_words(item.no_photo) if item.no_photo else None,
        zone=setup.zone,
    )
    rendered = render_certificate_pdf(
        document, layout_for(setup.certificates_dir, body.code), font_path=find_cjk_font(setup.font)
    )
    pdf = pdf_signer.sign(rendered)
    certificate = Certificate(
        number=number,
        item_id=item.id or 0,
        inspection_id=inspection.id or 0,
        check_code_hash=check_code_digest(setup.check_code_key, number, check_code),
        payload=signed.decode("utf-8"),
        signature=signature,
        url_signature=url_signature,
        kid=signer.kid,
        issued_at=now,
        issued_by_id=actor.id or 0,
        status=CertificateStatus.VALID,
        pdf_sha256="",
    )
    return Prepared(certificate, format_check_code(check_code), url, pdf)


def store_then_commit(
    session: Session, setup: IssuingSetup, prepared: Prepared, commit: Callable[[], None]
) -> None:
    """The PDF is stored before the row commits, and removed again if the commit fails: no
    number without its PDF, no PDF without its row. (A power cut between the two can leave an
    unreferenced file; `qc_app.orphans` sweeps those.)"""
    digest = storage.store(setup.files, "certificates", prepared.pdf, ".pdf")
    prepared.certificate.pdf_sha256 = digest
    try:
        commit()
    except BaseException:
        storage.remove(setup.files, "certificates", digest, ".pdf")
        raise


def check_issue(*, session: Session, actor: User, code: str) -> tuple[Item, Context]:
    """Refuse what issuing would refuse, signing nothing: a web process asks before it puts an
    issue on the queue, and issuance asks again before anything is signed or stored (no signed
    PDF may exist for a refused issue)."""
    item = get_item(session=session, actor=actor, code=code)
    context = context_of(session, item)
    verdict = guards.Verdict(context[0].verdict)
    workflow.MACHINE.check(item, "issue_certificate", actor, verdict)
    return item, context


def issue_certificate(
    *, session: Session, actor: User, code: str, setup: IssuingSetup, now: datetime
) -> Issued:
    item, context = check_issue(session=session, actor=actor, code=code)
    verdict = guards.Verdict(context[0].verdict)
    signers = signers_for(session=session, setup=setup, body=context[1], now=now)
    prepared = prepare(
        session=session,
        actor=actor,
        item=item,
        context=context,
        signers=signers,
        setup=setup,
        now=now,
    )
    certificate = prepared.certificate

    def commit() -> None:
        # The item is read again under the lock: of parallel issues only one finds it approved.
        with write(session, item):
            session.add(certificate)
            apply(
                session,
                item,
                "issue_certificate",
                actor,
                now,
                verdict,
                certificate=certificate.number,
                pdf_sha256=certificate.pdf_sha256,
                kid=certificate.kid,
            )

    store_then_commit(session, setup, prepared, commit)
    return Issued(certificate, prepared.check_code, prepared.verify_url)


def issued_since(*, session: Session, code: str, since: datetime) -> Certificate | None:
    """The item's first certificate issued at or after `since`: how a job run again after its
    worker died tells that its certificate was committed before the worker went."""
    item = session.exec(select(Item).where(Item.code == code)).first()
    if item is None:
        return None
    query = select(Certificate).where(
        Certificate.item_id == item.id,
        col(Certificate.issued_at) >= since,
        col(Certificate.reissue_of).is_(None),
    )
    return session.exec(query).first()
