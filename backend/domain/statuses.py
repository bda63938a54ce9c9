"""The named states of every aggregate; stored as text, checked by database constraints."""

from __future__ import annotations

from enum import Enum, StrEnum


class ShipmentStatus(StrEnum):
    """Normalized tracking status, learnt from AfterShip, EasyPost, 17TRACK and Karrio."""

    PENDING = "pending"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    CUSTOMS = "customs"
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERY_FAILED = "delivery_failed"
    EXCEPTION = "exception"
    RETURNING = "returning"
    RETURNED = "returned"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


FINAL_SHIPMENT_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED}
)


class OrderStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    WAITING = "waiting"  # refers to an object we have not seen yet


class LedgerKind(StrEnum):
    EARN = "earn"
    PENDING_EARN = "pending_earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"


class QuarantineStatus(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    DISCARDED = "discarded"


class SessionAudience(StrEnum):
    """Which portal a session was opened for; a member session never opens the staff portal."""

    PORTAL = "portal"
    STAFF = "staff"


def values(enum: type[Enum]) -> list[str]:
    return [member.value for member in enum]
