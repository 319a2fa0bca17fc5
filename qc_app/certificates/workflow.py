"""The certificate lifecycle as data for `qc_app.statemachine`.

    VALID ─revoke─► REVOKED                  (an admin, or an upheld 假一赔十 claim's hook)
    VALID ─reissue─► REVOKED                 (superseded: `superseded_by` names the replacement)

A certificate is issued valid (issuance); what it may become is this table. The state lives in
the `status` column, the name the API and the consumer page have always used.
Pure: no Flask, no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qc_app.authz import Role
from qc_app.certificates import guards
from qc_app.certificates.models import CertificateStatus
from qc_app.i18n import Message, msg, pmsg
from qc_app.statemachine import StateMachine, row

STATUS_LABELS: Mapping[CertificateStatus, Message] = {
    CertificateStatus.VALID: pmsg("state", "有效"),
    CertificateStatus.REVOKED: pmsg("state", "已吊销"),
}
# The same states inside a sentence ("the certificate is revoked").
IN_SENTENCE: Mapping[CertificateStatus, Message] = {
    CertificateStatus.VALID: pmsg("state in a sentence", "有效"),
    CertificateStatus.REVOKED: pmsg("state in a sentence", "已吊销"),
}

S = CertificateStatus
ADMIN = {Role.ADMIN}
MACHINE: StateMachine[CertificateStatus, Any] = StateMachine(
    states=CertificateStatus,
    labels=STATUS_LABELS,
    in_sentence=IN_SENTENCE,
    noun=pmsg("noun", "证书"),
    field="status",
    transitions=[
        row(
            "revoke",
            {S.VALID},
            S.REVOKED,
            ADMIN,
            pmsg("action", "吊销证书"),
            guards.guard_revoke,
            guards.Reason,
            refusal=msg("证书已被吊销"),
        ),
        row(
            "reissue",
            {S.VALID},
            S.REVOKED,
            ADMIN,
            pmsg("action", "重新签发证书"),
            guards.guard_reissue,
            guards.Reason,
            refusal=msg("只能重新签发有效的证书"),
        ),
    ],
)
