"""PayPal's raw states, event types and error issues -> our statuses, as docs/payments/paypal.md lists them."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# An order's own status, before any capture exists. COMPLETED is decided by its capture.
ORDER_STATUS: dict[str, P] = {
    "CREATED": P.CREATED,
    "SAVED": P.CREATED,
    "PAYER_ACTION_REQUIRED": P.CREATED,  # waiting for the buyer on PayPal's page
    "APPROVED": P.AUTHORIZED,  # the buyer approved; nothing is taken until we capture
    "VOIDED": P.CANCELLED,
}

# A capture's status (purchase_units[0].payments.captures[].status, and capture webhooks).
CAPTURE_STATUS: dict[str, P] = {
    "COMPLETED": P.SUCCEEDED,
    "PARTIALLY_REFUNDED": P.SUCCEEDED,  # refunds are tracked apart from the payment
    "REFUNDED": P.SUCCEEDED,
    "PENDING": P.PENDING,  # e.g. an eCheck or a review: PAYMENT.CAPTURE.COMPLETED follows
    "DECLINED": P.FAILED,
    "FAILED": P.FAILED,
}

REFUND_STATUS: dict[str, R] = {
    "COMPLETED": R.SUCCEEDED,
    "PENDING": R.PENDING,
    "FAILED": R.FAILED,
    "CANCELLED": R.FAILED,
}

# Webhook event type -> (what the resource is, the status it sets). An unmapped type is read
# for its ids only and both statuses stay None.
PAYMENT_EVENTS: dict[str, P] = {
    "CHECKOUT.ORDER.APPROVED": P.AUTHORIZED,
    "PAYMENT.CAPTURE.COMPLETED": P.SUCCEEDED,
    "PAYMENT.CAPTURE.PENDING": P.PENDING,
    "PAYMENT.CAPTURE.DENIED": P.FAILED,
    "PAYMENT.CAPTURE.DECLINED": P.FAILED,
}
# The resource of these is a refund; a reversal (chargeback, PayPal taking the money back)
# is money returned to the buyer, so it is recorded as a refund.
REFUND_EVENTS: dict[str, R] = {
    "PAYMENT.CAPTURE.REFUNDED": R.SUCCEEDED,
    "PAYMENT.CAPTURE.REVERSED": R.SUCCEEDED,
}

# 422 issues of a capture that mean "the buyer's money could not be taken": the payment
# failed (the order stays APPROVED at PayPal; a new checkout starts over). Any other 422 is
# our mistake and raises ProviderRejected.
CAPTURE_DECLINE_ISSUES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "TRANSACTION_REFUSED",
        "PAYER_CANNOT_PAY",
        "PAYEE_BLOCKED_TRANSACTION",
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
        "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
        "COMPLIANCE_VIOLATION",
    }
)

# PayPal refuses decimals for these, whatever ISO 4217 says (HUF has two there).
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})


def order_status(order_state: str, capture_state: str | None) -> P | None:
    """Our status for an order, decided by its latest capture once there is one."""
    if capture_state is not None:
        return CAPTURE_STATUS.get(capture_state)
    return ORDER_STATUS.get(order_state)
