"""SQLModel tables, one module per aggregate; importing this package registers them all."""

from backend.models.access import ApiKey, AuditLog
from backend.models.carrier import Carrier, CarrierAccount, CarrierCapability
from backend.models.loyalty import LoyaltyAccount, LoyaltyEntry, LoyaltyProgramme
from backend.models.member import Member, MemberTenant, SavedAddress
from backend.models.order import Order, TenantRateCard
from backend.models.payment import (
    Payment,
    PaymentProviderAccount,
    ReconciliationIssue,
    Refund,
)
from backend.models.shipment import Parcel, Shipment, TrackingEvent
from backend.models.tenant import Tenant, TenantKey, TenantSecret
from backend.models.upstream import QuarantinedRecord, UpstreamSource
from backend.models.user import AuthSession, StaffRole, UserAccount
from backend.models.webhook import WebhookInbox

__all__ = [
    "ApiKey",
    "AuditLog",
    "AuthSession",
    "Carrier",
    "CarrierAccount",
    "CarrierCapability",
    "LoyaltyAccount",
    "LoyaltyEntry",
    "LoyaltyProgramme",
    "Member",
    "MemberTenant",
    "Order",
    "Parcel",
    "Payment",
    "PaymentProviderAccount",
    "QuarantinedRecord",
    "ReconciliationIssue",
    "Refund",
    "SavedAddress",
    "Shipment",
    "StaffRole",
    "Tenant",
    "TenantKey",
    "TenantRateCard",
    "TenantSecret",
    "TrackingEvent",
    "UpstreamSource",
    "UserAccount",
    "WebhookInbox",
]
