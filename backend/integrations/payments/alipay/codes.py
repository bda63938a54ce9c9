"""Alipay's trade and refund states, and gateway result codes -> ours, as docs/payments/alipay.md lists them."""

from __future__ import annotations

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R

# trade_status of alipay.trade.query and of trade_status_sync notifies.
TRADE_STATUSES: dict[str, P] = {
    "WAIT_BUYER_PAY": P.PENDING,
    "TRADE_SUCCESS": P.SUCCEEDED,
    "TRADE_FINISHED": P.SUCCEEDED,  # paid, and past the refund period
    # Closed unpaid (declined, or the buyer never paid in time). A paid trade that closes
    # after a full refund is read as succeeded instead: it carries its payment time.
    "TRADE_CLOSED": P.FAILED,
}

# refund_status of alipay.trade.fastpay.refund.query (an empty one on a found refund is success).
REFUND_STATUSES: dict[str, R] = {
    "REFUND_SUCCESS": R.SUCCEEDED,
}

NOTIFY_TYPES = frozenset({"trade_status_sync"})

SUCCESS_CODE = "10000"
# Results that say "try again later with the same out_trade_no / out_request_no".
UNAVAILABLE_CODES = frozenset({"20000"})
UNAVAILABLE_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.ACQ.SYSTEM_ERROR"})


def payment_status(trade_status: str, paid_at: str = "") -> P | None:
    """Ours for a trade status; a closed trade that had been paid stays succeeded."""
    if trade_status == "TRADE_CLOSED" and paid_at:
        return P.SUCCEEDED
    return TRADE_STATUSES.get(trade_status)


def refund_status(status: str) -> R | None:
    return REFUND_STATUSES.get(status)
