"""Adyen's notification event codes and payment-link statuses -> our payment and refund statuses."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# (eventCode, success) -> (payment status, refund status). Waybill's merchant accounts
# capture automatically (Adyen's default), so a successful AUTHORISATION is the money
# taken: no CAPTURE notification follows unless the account delays capture.
EVENTS: dict[tuple[str, bool], tuple[P | None, R | None]] = {
    ("AUTHORISATION", True): (P.SUCCEEDED, None),
    ("AUTHORISATION", False): (P.FAILED, None),
    ("PENDING", True): (P.PENDING, None),
    ("CAPTURE", True): (P.SUCCEEDED, None),
    ("CAPTURE_FAILED", True): (P.FAILED, None),
    ("CANCELLATION", True): (P.CANCELLED, None),
    # The shopper abandoned an asynchronous method (a wallet, a bank redirect) and it lapsed.
    ("OFFER_CLOSED", True): (P.CANCELLED, None),
    ("REFUND", True): (None, R.SUCCEEDED),
    ("REFUND", False): (None, R.FAILED),
    # A refund Adyen had accepted was later refused by the scheme or the bank.
    ("REFUND_FAILED", True): (None, R.FAILED),
    ("REFUNDED_REVERSED", True): (None, R.FAILED),
}

# CANCEL_OR_REFUND is a cancel before capture and a refund after it; which one Adyen did
# is in additionalData.modification.action (a field the HMAC does not cover, see notifications.py).
CANCEL_OR_REFUND = "CANCEL_OR_REFUND"
CANCEL_OR_REFUND_ACTIONS: dict[str, tuple[P | None, R | None]] = {
    "cancel": (P.CANCELLED, None),
    "refund": (None, R.SUCCEEDED),
}

# Event codes about a refund: the item's pspReference is the refund's, originalReference
# the payment's, merchantReference our refund id.
REFUND_EVENT_CODES = frozenset({"REFUND", "REFUND_FAILED", "REFUNDED_REVERSED"})

# GET /paymentLinks/{id} -> status. A link says whether the shopper paid through it, not what
# happened to the payment afterwards (refunds, cancellations): see docs/payments/adyen.md.
LINK_STATUS: dict[str, P] = {
    "active": P.CREATED,  # nobody paid yet; a refused attempt leaves the link active too
    "paymentPending": P.PENDING,  # an asynchronous method is in progress
    "completed": P.SUCCEEDED,
    "paid": P.SUCCEEDED,  # the same state as "completed", as API versions before v66 name it
    "expired": P.CANCELLED,  # never paid before expiresAt (or expired by the merchant)
}


def event_statuses(event_code: str, success: bool, action: str = "") -> tuple[P | None, R | None]:
    """Our statuses for one notification; (None, None) for a code we do not act on."""
    if event_code == CANCEL_OR_REFUND:
        return CANCEL_OR_REFUND_ACTIONS.get(action, (None, None)) if success else (None, None)
    return EVENTS.get((event_code, success), (None, None))
