"""Every table, imported in one place so Alembic and tests see the whole schema."""

from qc_app.audit import AuditEvent, AuditLink, AuditQueued
from qc_app.auth.models import ApiToken, User, UserSession
from qc_app.certificates.models import (
    Certificate,
    IssuanceBatch,
    PdfSigningCredential,
    SigningKey,
)
from qc_app.claims.models import Claim, Evidence
from qc_app.inspection.models import Inspection, TestingBody
from qc_app.intake.models import Consignment
from qc_app.items.models import Item, Photo
from qc_app.jobs.models import Job
from qc_app.listings.models import LabelPeriod, Listing
from qc_app.merchants.models import Membership, Merchant
from qc_app.orders.models import Order
from qc_app.outbox.models import Attempt, Delivery, OutboxEvent, Subscription
from qc_app.programmes.models import Programme
from qc_app.verification.scans import ScanHour
from qc_app.warehouse.models import Alarm, OnceToken

__all__ = [
    "Alarm",
    "ApiToken",
    "Attempt",
    "AuditEvent",
    "AuditLink",
    "AuditQueued",
    "Certificate",
    "Claim",
    "Consignment",
    "Delivery",
    "Evidence",
    "Inspection",
    "IssuanceBatch",
    "Item",
    "Job",
    "LabelPeriod",
    "Listing",
    "Membership",
    "Merchant",
    "OnceToken",
    "Order",
    "OutboxEvent",
    "PdfSigningCredential",
    "Photo",
    "Programme",
    "ScanHour",
    "SigningKey",
    "Subscription",
    "TestingBody",
    "User",
    "UserSession",
]
