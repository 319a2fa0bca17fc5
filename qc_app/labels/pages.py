"""Label downloads, as the label pages and the API both answer with them."""

from __future__ import annotations

from collections.abc import Sequence

from werkzeug.wrappers import Response

from qc_app.certificates.fonts import find_cjk_font
from qc_app.labels import pdf, zpl
from qc_app.labels.data import ItemLabel
from qc_app.web import config, download


def labels_pdf_response(labels: Sequence[ItemLabel], size: str, name: str) -> Response:
    data = pdf.labels_pdf(labels, size, find_cjk_font(config().CJK_FONT))
    return download(data, "application/pdf", f"labels-{name}-{size}.pdf")


def labels_zpl_response(labels: Sequence[ItemLabel], size: str, name: str) -> Response:
    data = zpl.labels_zpl(labels, size)
    return download(data, "text/plain; charset=utf-8", f"labels-{name}-{size}.zpl")
