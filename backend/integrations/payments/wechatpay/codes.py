"""WeChat Pay's trade states, refund states and notification types -> ours, as docs/payments/wechatpay.md lists them."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# trade_state of a transaction (query answer and TRANSACTION.* resources).
TRADE_STATES: dict[str, P] = {
    "SUCCESS": P.SUCCEEDED,
    "REFUND": P.SUCCEEDED,  # paid, then (part) refunded: the payment itself stands
    "NOTPAY": P.PENDING,
    "USERPAYING": P.PENDING,  # waiting for the payer's password
    "ACCEPT": P.PENDING,  # accepted, debit not yet done
    "PAYERROR": P.FAILED,  # e.g. declined by the bank; the payer may try again
    "CLOSED": P.CANCELLED,
    "REVOKED": P.CANCELLED,
}

# status of a refund (refund answer) and refund_status of REFUND.* resources.
REFUND_STATES: dict[str, R] = {
    "PROCESSING": R.PENDING,
    "SUCCESS": R.SUCCEEDED,
    "CLOSED": R.FAILED,
    "ABNORMAL": R.FAILED,  # the money could not reach the payer's account: staff must act
}

# event_type -> the kind of resource it carries; any other type is recorded and ignored.
EVENT_TYPES: dict[str, str] = {
    "TRANSACTION.SUCCESS": "transaction",
    "REFUND.SUCCESS": "refund",
    "REFUND.ABNORMAL": "refund",
    "REFUND.CLOSED": "refund",
}


def payment_status(trade_state: str) -> P | None:
    """Ours for a trade state; None for a state missing from the table (never guessed)."""
    return TRADE_STATES.get(trade_state)


def refund_status(state: str) -> R | None:
    return REFUND_STATES.get(state)
