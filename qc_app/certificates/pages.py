"""What the certificate pages and the API both answer with: the deployment's issuing setup, and
a certificate's PDF as a download."""

from __future__ import annotations

from werkzeug.wrappers import Response

from qc_app.certificates.issuance import IssuingSetup
from qc_app.codes import normalize
from qc_app.web import config, download, files


def issuing_setup() -> IssuingSetup:
    return IssuingSetup.from_config(config(), files())


def pdf_response(data: bytes, number: str) -> Response:
    """The PDF of a certificate found by `number`; its file name has the number as stored (the
    URL's may hold a newline, which no header can carry)."""
    return download(data, "application/pdf", f"certificate-{normalize(number)}.pdf")
