"""The listing page's batched lookups agree with the per-item helpers they stand in for."""

from __future__ import annotations

from qc_app.certificates.lookup import certificate_of
from qc_app.inspection.services import latest_approved
from qc_app.intake.results import listing_view


def test_listing_view_rows_match_latest_approved_and_certificate_of(db, flow, world):
    _, issued = flow.certified()
    failed = flow.declare()
    flow.receive(failed)
    flow.approve(flow.inspect(failed, fineness="750.0"))
    flow.declare()  # not judged yet
    view = listing_view(session=db, actor=world["merchant1"], listing_id=world.listing_gold.id or 0)
    assert [(row.certificate, row.verdict) for row in view.items] == [
        (
            certificate_of(session=db, item=row.item),
            getattr(latest_approved(session=db, item=row.item), "verdict", None),
        )
        for row in view.items
    ]
    assert (view.passed, view.failed) == (1, 1)
    assert view.items[0].certificate == issued.certificate
