"""Apply what a provider says (a webhook event, or a re-read) to a payment, its refunds and order.

Everything happens under the payment's row lock, in one transaction: the payment's
state only moves forward (domain.payment_lifecycle), refunds settle, the refunded
total is recomputed from the refunds (never incremented), the order's state is
derived again, and the first time it is paid its shipment is created. When two final
states disagree, the provider's own record decides and staff are told.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.domain.ids import new_id
from backend.domain.payment_lifecycle import (
    PaymentView,
    Step,
    order_status,
    payment_step,
    refund_step,
)
from backend.domain.statuses import OrderStatus, PaymentStatus, RefundStatus
from backend.integrations.payments.base import PaymentEvent, ProviderPayment, RefundResult
from backend.models import Order, Payment, ReconciliationIssue, Refund
from backend.models.base import utcnow
from backend.services import fulfilment


@dataclass(frozen=True)
class Applied:
    payment_id: UUID
    order_id: UUID
    changed: bool  # anything the customer or staff would see moved
    needs_capture: bool  # approved at a provider that captures separately
    conflict: bool  # two final states disagreed: the caller re-reads the provider


def match_payment(
    db: Session, tenant_id: UUID, provider: str, event: PaymentEvent
) -> Payment | None:
    """The payment an event is about, locked: by our id where echoed, else the provider's reference."""
    if event.refund_status is not None:
        refund = _match_refund(
            db, tenant_id, provider, event.merchant_reference, event.refund_reference
        )
        if refund is not None:
            return _locked(db, select(Payment).where(Payment.id == refund.payment_id))
    ours = _uuid(event.merchant_reference)
    base = select(Payment).where(Payment.tenant_id == tenant_id, Payment.provider == provider)
    if ours is not None:
        found = _locked(db, base.where(Payment.id == ours))
        if found is not None:
            return found
    if event.provider_reference:
        found = _locked(db, base.where(Payment.provider_reference == event.provider_reference))
        if found is None:  # refunds and reversals may name only the capture (PayPal)
            found = _locked(
                db,
                base.where(
                    Payment.provider_data["capture_reference"].astext == event.provider_reference
                ),
            )
        return found
    return None


def _locked(db: Session, query) -> Payment | None:
    return db.exec(query.with_for_update()).first()


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _match_refund(
    db: Session, tenant_id: UUID, provider: str, ours: str, theirs: str
) -> Refund | None:
    query = (
        select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.tenant_id == tenant_id, Payment.provider == provider)
    )
    refund_id = _uuid(ours)
    if refund_id is not None:
        found = db.exec(query.where(Refund.id == refund_id)).first()
        if found is not None:
            return found
    if theirs:
        return db.exec(query.where(Refund.provider_reference == theirs)).first()
    return None


def apply_event(
    db: Session, payment: Payment, event: PaymentEvent, *, captures_later: bool
) -> Applied:
    """One verified webhook event, on a payment already locked by match_payment."""
    changed = conflict = False
    if (
        event.payment_status in (PaymentStatus.AUTHORIZED, PaymentStatus.SUCCEEDED)
        and event.provider_reference
        and event.provider_reference != payment.provider_reference
        and not (payment.provider_data or {}).get("capture_reference")
    ):
        # The provider named the captured money (Adyen's pspReference): refunds go by it.
        payment.provider_data = {
            **(payment.provider_data or {}),
            "capture_reference": event.provider_reference,
        }
    if event.payment_status is not None:
        step = payment_step(PaymentStatus(payment.status), event.payment_status)
        if step is Step.MOVE:
            payment.status = event.payment_status.value
            if event.payment_status is PaymentStatus.FAILED and event.failure_reason:
                payment.failure_reason = event.failure_reason[:300]
            changed = True
        conflict = step is Step.CONFLICT
    if event.refund_status is not None:
        result = RefundResult(
            event.refund_reference,
            event.refund_status,
            event.amount_minor or 0,
            event.merchant_reference,
        )
        changed |= _apply_refund(db, payment, result)
        if (
            event.refund_status is RefundStatus.SUCCEEDED
            and payment.status != PaymentStatus.SUCCEEDED.value
        ):
            conflict = True  # money came back from a payment we do not know as captured: re-read
    changed |= settle(db, payment)
    return Applied(
        payment.id,
        payment.order_id,
        changed,
        captures_later and payment.status == PaymentStatus.AUTHORIZED.value,
        conflict,
    )


def apply_truth(
    db: Session, payment: Payment, truth: ProviderPayment, *, authoritative: bool = True
) -> bool:
    """The provider's own record of the payment (re-read, capture answer): it wins over events,
    unless the provider's record is a weak one (`authoritative` False: it may only raise)."""
    changed = False
    if (
        truth.capture_reference
        and (payment.provider_data or {}).get("capture_reference") != truth.capture_reference
    ):
        payment.provider_data = {
            **(payment.provider_data or {}),
            "capture_reference": truth.capture_reference,
        }
        changed = True
    step = payment_step(PaymentStatus(payment.status), truth.status, authoritative=authoritative)
    if step is Step.CONFLICT:
        raise_issue(db, payment, "status", payment.status, truth.status.value)
    if step is Step.MOVE or (step is Step.CONFLICT and authoritative):
        payment.status = truth.status.value
        changed = True
    if truth.amount_minor and truth.amount_minor != payment.amount_minor:
        raise_issue(db, payment, "amount", str(payment.amount_minor), str(truth.amount_minor))
    for refund in truth.refunds:
        changed |= _apply_refund(db, payment, refund)
    changed |= settle(db, payment)
    return changed


def apply_refund_result(db: Session, payment: Payment, result: RefundResult) -> bool:
    """A provider's answer to our refund call (or a re-read of one), on a locked payment."""
    changed = _apply_refund(db, payment, result)
    return settle(db, payment) or changed


def _apply_refund(db: Session, payment: Payment, result: RefundResult) -> bool:
    refund = _match_refund(
        db, payment.tenant_id, payment.provider, result.merchant_reference, result.refund_reference
    )
    if refund is None:
        if result.status is not RefundStatus.SUCCEEDED or result.amount_minor <= 0:
            return False
        # Refunded outside Waybill (the provider's dashboard): record it so the books add up.
        refund = Refund(
            tenant_id=payment.tenant_id,
            payment_id=payment.id,
            amount_minor=result.amount_minor,
            currency=payment.currency,
            status=RefundStatus.REQUESTED.value,
            provider_reference=result.refund_reference or None,
            idempotency_key=f"external-{payment.provider}-{result.refund_reference}"[:80],
            reason="refunded at the provider",
        )
        db.add(refund)
        db.flush()
        raise_issue(db, payment, "refund_outside_waybill", "", result.refund_reference, refund.id)
    changed = False
    if result.refund_reference and not refund.provider_reference:
        refund.provider_reference = result.refund_reference
        changed = True
    step = refund_step(RefundStatus(refund.status), result.status)
    if step is Step.CONFLICT:
        raise_issue(db, payment, "refund_status", refund.status, result.status.value, refund.id)
    if step in (Step.MOVE, Step.CONFLICT):
        refund.status = result.status.value
        changed = True
    if changed:
        refund.updated_at = utcnow()
        db.add(refund)
    return changed


def settle(db: Session, payment: Payment) -> bool:
    """Recompute the refunded total and the order's state; create the shipment once paid."""
    db.flush()
    refunded = sum(
        r.amount_minor
        for r in db.exec(
            select(Refund).where(
                Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED.value
            )
        )
    )
    if refunded > payment.amount_minor:
        raise_issue(db, payment, "refunded", str(payment.amount_minor), str(refunded))
        refunded = payment.amount_minor
    changed = refunded != payment.refunded_minor
    payment.refunded_minor = refunded
    payment.updated_at = utcnow()
    db.add(payment)
    db.flush()
    order = db.exec(select(Order).where(Order.id == payment.order_id).with_for_update()).one()
    payments = db.exec(select(Payment).where(Payment.order_id == order.id)).all()
    views = [
        PaymentView(PaymentStatus(p.status), p.amount_minor, p.refunded_minor) for p in payments
    ]
    status = order_status(views, OrderStatus(order.status))
    succeeded = [p for p in payments if p.status == PaymentStatus.SUCCEEDED.value]
    if len(succeeded) > 1:
        for extra in succeeded[1:]:
            raise_issue(db, extra, "duplicate_payment", str(succeeded[0].id), str(extra.id))
    if status.value != order.status:
        order.status = status.value
        order.updated_at = utcnow()
        changed = True
    if status is not OrderStatus.AWAITING_PAYMENT and succeeded and order.paid_at is None:
        order.paid_at = utcnow()
        fulfilment.create_shipment(db, order)
        changed = True
    db.add(order)
    return changed


def raise_issue(
    db: Session, payment: Payment, kind: str, ours: str, theirs: str, refund_id: UUID | None = None
) -> None:
    """Tell staff our books and the provider's disagree (once per payment, kind and value)."""
    db.execute(
        insert(ReconciliationIssue)
        .values(
            id=new_id(),
            tenant_id=payment.tenant_id,
            payment_id=payment.id,
            refund_id=refund_id,
            kind=kind,
            ours=ours[:120],
            theirs=theirs[:120],
            detected_at=utcnow(),
        )
        .on_conflict_do_nothing(constraint="reconciliation_once")
    )
