"""The operator's background work on the queue workers: the audit sequencer (every minute, so
an event waits at most about a minute before the chain protects it) and signed checkpoints into
the store (every hour, and as each worker stops)."""

from __future__ import annotations

import logging

from flask import Flask

from qc_app import audit, queue
from qc_app.db import request_session
from qc_app.ops import checkpoints
from qc_app.sqltypes import utcnow
from qc_app.web import files

log = logging.getLogger(__name__)


@queue.periodic("audit.sequence", every_minutes=1)
def sequence_audit(app: Flask) -> None:
    chained = audit.sequence(request_session())
    if chained:
        log.info("audit: %d events chained", chained)


@queue.periodic("audit.checkpoint", every_minutes=60, at_stop=True)
def checkpoint_audit(app: Flask) -> None:
    written = checkpoints.write(
        session=request_session(),
        files=files(),
        passphrase=app.config["QC"].signing_passphrase(),
        now=utcnow(),
    )
    if written.stored:
        log.info("audit: checkpoint %d stored as %s", written.checkpoint.seq, written.key)
