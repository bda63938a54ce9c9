"""Payment and refund states only move forward; an order's payment state is derived from them.

Providers send events late, twice and out of order. Each state has a rank, and an
event may only raise it, so every arrival order of the same events ends in the same
state. Two final states that exclude each other (succeeded, cancelled) are a
conflict no rank can settle: the caller re-reads the payment from the provider.

`failed` ranks low on purpose: a declined card is not the end of a payment, since the
customer may try again on the same hosted page and succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.domain.statuses import OrderStatus, PaymentStatus, RefundStatus

P = PaymentStatus
R = RefundStatus

PAYMENT_RANK = {
    P.CREATED: 0,
    P.PENDING: 1,
    P.FAILED: 2,
    P.AUTHORIZED: 3,
    P.SUCCEEDED: 4,
    P.CANCELLED: 4,
}
FINAL_PAYMENT_STATUSES = frozenset({P.SUCCEEDED, P.CANCELLED})

REFUND_RANK = {R.REQUESTED: 0, R.PENDING: 1, R.SUCCEEDED: 2, R.FAILED: 2}
FINAL_REFUND_STATUSES = frozenset({R.SUCCEEDED, R.FAILED})


class Step(StrEnum):
    MOVE = "move"  # apply the new state
    STAY = "stay"  # the event is older than what we know, or repeats it: nothing to do
    CONFLICT = "conflict"  # two final states disagree: ask the provider


def payment_step(
    current: PaymentStatus, target: PaymentStatus, *, authoritative: bool = False
) -> Step:
    """How an event (or, `authoritative`, the provider's own re-read record) moves a payment.

    Events only raise the rank. The provider's record may also lower a payment that is not
    final, e.g. an approval whose capture was then declined (authorized -> failed): that is
    the provider correcting what an earlier event said, not an event arriving late.
    """
    if current == target:
        return Step.STAY
    if current in FINAL_PAYMENT_STATUSES:
        lower = PAYMENT_RANK[target] < PAYMENT_RANK[current]
        return Step.STAY if lower and not authoritative else Step.CONFLICT
    if PAYMENT_RANK[target] < PAYMENT_RANK[current] and not authoritative:
        return Step.STAY
    return Step.MOVE


def refund_step(current: RefundStatus, target: RefundStatus) -> Step:
    if current == target or REFUND_RANK[target] < REFUND_RANK[current]:
        return Step.STAY
    if current in FINAL_REFUND_STATUSES:
        return Step.CONFLICT
    return Step.MOVE


@dataclass(frozen=True)
class PaymentView:
    """What order status derivation needs to know about one payment of the order."""

    status: PaymentStatus
    amount_minor: int
    refunded_minor: int


def order_status(payments: list[PaymentView], current: OrderStatus) -> OrderStatus:
    """The order's state from its payments: paid once one succeeded, then refunds on top.

    A cancelled order stays cancelled unless money arrived anyway (then staff must refund
    it, and the order shows as paid so that nobody forgets).
    """
    paid = [p for p in payments if p.status == P.SUCCEEDED]
    if not paid:
        if current in (OrderStatus.CANCELLED, OrderStatus.DRAFT):
            return current
        return OrderStatus.AWAITING_PAYMENT
    amount = sum(p.amount_minor for p in paid)
    refunded = sum(p.refunded_minor for p in paid)
    if refunded <= 0:
        return OrderStatus.PAID
    if refunded >= amount:
        return OrderStatus.REFUNDED
    return OrderStatus.PARTIALLY_REFUNDED


def refundable_minor(amount_minor: int, refunded_minor: int, in_flight_minor: int) -> int:
    """What may still be refunded: never more than was paid, counting refunds not yet settled."""
    return max(0, amount_minor - refunded_minor - in_flight_minor)
