"""Checkout.com's webhook event types and payment statuses -> our payment and refund statuses."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# Hosted payments capture automatically (the request's "capture" defaults to true), so
# payment_approved (authorized) is normally followed by payment_captured.
PAYMENT_EVENTS: dict[str, P] = {
    "payment_pending": P.PENDING,
    "payment_approved": P.AUTHORIZED,
    "payment_captured": P.SUCCEEDED,
    "payment_paid": P.SUCCEEDED,  # some alternative methods are paid rather than captured
    "payment_declined": P.FAILED,
    "payment_authentication_failed": P.FAILED,
    "payment_capture_declined": P.FAILED,
    "payment_expired": P.CANCELLED,  # the customer never completed an alternative method
    "payment_canceled": P.CANCELLED,
    "payment_voided": P.CANCELLED,
}

# Refund events carry the refund's action id and our refund id as data.reference.
REFUND_EVENTS: dict[str, R] = {
    "payment_refund_pending": R.PENDING,
    "payment_refunded": R.SUCCEEDED,
    "payment_refund_declined": R.FAILED,
}

# GET /payments/{id} -> status. Refunds do not undo a payment: "Refunded" is a payment that
# succeeded and whose money went back, which the refunds themselves record.
PAYMENT_STATUS: dict[str, P] = {
    "Pending": P.PENDING,
    "Authorized": P.AUTHORIZED,
    "Card Verified": P.AUTHORIZED,
    "Retry Scheduled": P.PENDING,
    "Partially Captured": P.SUCCEEDED,
    "Captured": P.SUCCEEDED,
    "Paid": P.SUCCEEDED,
    "Partially Refunded": P.SUCCEEDED,
    "Refunded": P.SUCCEEDED,
    "Declined": P.FAILED,
    "Voided": P.CANCELLED,
    "Canceled": P.CANCELLED,
    "Expired": P.CANCELLED,
}

# GET /hosted-payments/{id} -> status, when no payment has been made on the page yet.
SESSION_STATUS: dict[str, P] = {
    "Payment Pending": P.CREATED,
    "Payment Received": P.PENDING,  # the payment itself is the truth: the adapter reads it
    "Expired": P.CANCELLED,
}


def event_statuses(event_type: str) -> tuple[P | None, R | None]:
    """Our statuses for one event type; (None, None) for a type we do not act on."""
    return PAYMENT_EVENTS.get(event_type), REFUND_EVENTS.get(event_type)
