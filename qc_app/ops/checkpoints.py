"""Signed audit checkpoints in the file store: written by the worker (hourly, and as it stops)
and by `flask qc audit checkpoint`; read by `audit verify`, the backup and /metrics.

A checkpoint signs the chain's head (qc_app.audit). Kept as one object per chain position
(`checkpoints/<seq, 12 digits>.json`), so the store lists them in order and the newest is last;
a store that is not this database's own machine keeps them out of reach of whoever could
rewrite the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from qc_app.audit import Checkpoint, make_checkpoint
from qc_app.certificates.keys import signer_for, verifier
from qc_app.certificates.signing import SignatureInvalid, UnknownKey
from qc_app.storage import Storage

KIND = "checkpoints"


class CheckpointForged(RuntimeError):
    """A stored checkpoint whose signature does not verify: the store was written by someone
    without the signing key."""


@dataclass(frozen=True)
class Written:
    checkpoint: Checkpoint
    key: str
    stored: bool  # False: the head had not moved since the last one, nothing new was written


def key_of(seq: int) -> str:
    return f"{KIND}/{seq:012d}.json"


def write(*, session: Session, files: Storage, passphrase: str, now: datetime) -> Written:
    """Chain what is queued, sign the head, store it unless that head is stored already."""
    signer = signer_for(session, passphrase)
    checkpoint = make_checkpoint(session, kid=signer.kid, sign=signer.sign, now=now)
    key = key_of(checkpoint.seq)
    if files.exists(key):
        return Written(checkpoint, key, stored=False)
    files.put(key, (checkpoint.to_json() + "\n").encode())
    return Written(checkpoint, key, stored=True)


def signed(session: Session, lines: list[tuple[str, str]]) -> list[Checkpoint]:
    """The checkpoints in (where, JSON line) pairs, each signature checked."""
    keys = verifier(session)
    found = []
    for where, line in lines:
        if not line.strip():
            continue
        checkpoint = Checkpoint.from_json(line)
        try:
            keys.verify(checkpoint.signed_bytes(), checkpoint.signature, checkpoint.kid, at=None)
        except (SignatureInvalid, UnknownKey) as exc:
            raise CheckpointForged(f"checkpoint at {where} is not genuine: {exc}") from exc
        found.append(checkpoint)
    return found


def stored(files: Storage) -> list[tuple[str, str]]:
    """Every stored checkpoint as (key, JSON line), oldest first."""
    return [(obj.key, files.get(obj.key).decode()) for obj in files.list(KIND)]


def latest(files: Storage) -> Checkpoint | None:
    """The newest stored checkpoint (signature not checked: for its age, not for trust)."""
    objects = files.list(KIND)
    return Checkpoint.from_json(files.get(objects[-1].key).decode()) if objects else None
