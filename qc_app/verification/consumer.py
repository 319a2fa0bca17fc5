"""What the consumer's page adds around the verdict: the scan counter (with its copied-code
warnings) and the parcel's seal number. (The guarantee is the record's coverage.)

The facts come with the verdict's one query (services.Record); a consumer's scan goes to the
process's tally (scans.Tally), written with others at most SCAN_FLUSH_SECONDS later.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from qc_app.verification import scans
from qc_app.verification.services import Record


@dataclass(frozen=True)
class Extras:
    scans: scans.ScanSummary
    seal_no: str | None


def extras(
    session: Session,
    *,
    tally: scans.Tally,
    counter: Engine,
    record: Record,
    role: str | None,
    limits: scans.Thresholds,
    count: bool = True,
) -> Extras:
    """A consumer's scan is tallied and counted in (unless `count` is false: the same page
    again in another language); due tallies are written to `counter`."""
    seen = record.scans
    if count and scans.counts(role):
        tally.add(record.id, seen.hour)
    unwritten, in_this_hour = tally.pending(record.id, seen.hour)
    seen = seen.plus(unwritten, in_this_hour)
    summary = scans.summarise(
        session, certificate_id=record.id, seen=seen, unwritten=unwritten, limits=limits
    )
    tally.flush(counter)
    return Extras(summary, record.seal_no)
