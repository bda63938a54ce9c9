"""Stripe's PaymentIntent, refund and event names -> our payment and refund statuses."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# A PaymentIntent re-read from the API. "requires_payment_method" is also where a declined
# card leaves it (the customer may try another card): wire.intent_status reads
# last_payment_error to tell a decline from a payment nobody has tried yet.
INTENT_STATUS: dict[str, P] = {
    "requires_payment_method": P.CREATED,
    "requires_confirmation": P.CREATED,
    "requires_action": P.PENDING,
    "processing": P.PENDING,
    "requires_capture": P.AUTHORIZED,
    "succeeded": P.SUCCEEDED,
    "canceled": P.CANCELLED,
}

# An event names the transition, so events map by type rather than by the object's status
# (a payment_failed event carries an intent back in "requires_payment_method").
PAYMENT_EVENT_STATUS: dict[str, P] = {
    "payment_intent.created": P.CREATED,
    "payment_intent.processing": P.PENDING,
    "payment_intent.requires_action": P.PENDING,
    "payment_intent.amount_capturable_updated": P.AUTHORIZED,
    "payment_intent.succeeded": P.SUCCEEDED,
    "payment_intent.payment_failed": P.FAILED,
    "payment_intent.canceled": P.CANCELLED,
}

# Events whose object is one refund; its own status says where it is.
REFUND_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)

REFUND_STATUS: dict[str, R] = {
    "pending": R.PENDING,
    "requires_action": R.PENDING,
    "succeeded": R.SUCCEEDED,
    "failed": R.FAILED,
    "canceled": R.FAILED,
}
