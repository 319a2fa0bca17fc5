"""The one sweeper of stored files: certificate PDFs, photos and claim evidence no row refers to.

Services store a file before its row commits, so a crash (or a refused request after the store)
can leave an unreferenced object. Sweeping lists the store and removes those older than a grace
period, so an upload whose row is about to commit is never taken.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from qc_app.certificates.models import Certificate
from qc_app.claims.models import Evidence
from qc_app.items.models import Photo
from qc_app.storage import Storage

# Each stored kind and the column holding the digests its rows refer to.
REFERENCES: dict[str, Any] = {
    "certificates": Certificate.pdf_sha256,
    "photos": Photo.sha256,
    "evidence": Evidence.sha256,
}


def sweep_orphans(
    *, session: Session, files: Storage, now: datetime, grace: timedelta = timedelta(minutes=10)
) -> list[str]:
    """Delete stored files no row refers to, last written more than `grace` ago. Returns the
    keys removed."""
    cutoff = now - grace
    removed = []
    for kind, column in REFERENCES.items():
        referenced = set(session.exec(select(column)).all())
        for stored in files.list(kind):
            if stored.digest not in referenced and stored.modified < cutoff:
                files.delete(stored.key)
                removed.append(stored.key)
    return removed
