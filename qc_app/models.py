"""Every table, imported in one place so Alembic and tests see the whole schema."""

from qc_app.audit import AuditEvent
from qc_app.auth.models import ApiToken, User, UserSession
from qc_app.certificates.models import Certificate, SigningKey
from qc_app.claims.models import Claim, Evidence, Programme
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.intake.models import Consignment, Item, Photo
from qc_app.listings.models import Listing
from qc_app.merchants.models import Merchant
from qc_app.orders.models import Order
from qc_app.verification.scans import ScanHour

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Certificate",
    "Claim",
    "Consignment",
    "Evidence",
    "Inspection",
    "Item",
    "Listing",
    "Merchant",
    "Order",
    "Photo",
    "Programme",
    "ScanHour",
    "SigningKey",
    "TestingBody",
    "User",
    "UserSession",
]
