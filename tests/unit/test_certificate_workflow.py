"""The certificate table: who may revoke or reissue, from which status, with what reason."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qc_app.certificates.guards import Reason
from qc_app.certificates.models import CertificateStatus
from qc_app.certificates.workflow import MACHINE
from qc_app.errors import Forbidden, IllegalTransition, ValidationFailed


@dataclass
class Cert:
    status: str = CertificateStatus.VALID


@dataclass(frozen=True)
class User:
    role: str
    id: int | None = 1
    merchant_id: int | None = None


ADMIN = User("admin")


@pytest.mark.parametrize("name", ["revoke", "reissue"])
def test_a_valid_certificate_leaves_valid_for_good(name: str) -> None:
    cert = Cert()
    change = MACHINE.transition(cert, name, ADMIN, Reason("印错"))
    assert (change.before, change.after) == (CertificateStatus.VALID, CertificateStatus.REVOKED)
    assert cert.status == CertificateStatus.REVOKED


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("revoke", "the certificate is already revoked"),
        ("reissue", "only a valid certificate can be reissued"),
    ],
)
def test_a_revoked_certificate_is_refused_with_the_rows_own_words(name: str, refusal: str) -> None:
    with pytest.raises(IllegalTransition) as refused:
        MACHINE.check(Cert(CertificateStatus.REVOKED), name, ADMIN, Reason("x"))
    assert str(refused.value) == refusal


@pytest.mark.parametrize("name", ["revoke", "reissue"])
def test_only_the_platform_and_only_with_a_reason(name: str) -> None:
    with pytest.raises(Forbidden):
        MACHINE.check(Cert(), name, User("inspector"), Reason("x"))
    with pytest.raises(ValidationFailed):
        MACHINE.check(Cert(), name, ADMIN, Reason("  "))
