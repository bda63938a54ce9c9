"""Staff refunds: finance asks, the payment's row lock keeps the total honest, a worker calls out.

request_refund() checks the role and the amount against what is still refundable
(refunds in flight count), then stores the refund with its idempotency key before
any call. submit() runs in a worker: it asks the provider with that key (a retry
after a timeout refunds nothing twice) and records the answer; the provider's
webhook, or the reconciler, settles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import httpx
from sqlmodel import select

from backend.db import session_scope
from backend.domain.ids import new_id
from backend.domain.payment_lifecycle import refundable_minor
from backend.domain.roles import Permission
from backend.domain.statuses import PaymentStatus, RefundStatus
from backend.integrations.payments import registry
from backend.integrations.payments.base import ProviderRejected, RefundResult
from backend.models import Payment, Refund
from backend.services import audit, payment_accounts, payment_apply, task_queue
from backend.services.access import Principal
from backend.services.errors import NotFound, ValidationFailed
from backend.services.tenants import scoped_tenant

_IN_FLIGHT = (RefundStatus.REQUESTED.value, RefundStatus.PENDING.value)
REASON_MAX = 300
SUBMIT_TASK = "waybill.payments.submit_refund"


@dataclass(frozen=True)
class RefundRequested:
    refund_id: UUID
    amount_minor: int
    currency: str


def request_refund(
    principal: Principal | None, tenant_slug: str, payment_id: UUID, amount_minor: int, reason: str
) -> RefundRequested:
    """Store a refund for `amount_minor` of a succeeded payment (finance role); submit() sends it."""
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.REFUND)
    assert principal is not None
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": "too_long"})
    with session_scope() as db:
        payment = db.exec(
            select(Payment)
            .where(Payment.id == payment_id, Payment.tenant_id == tenant_id)
            .with_for_update()
        ).first()
        if payment is None:
            raise NotFound("no such payment")
        if payment.status != PaymentStatus.SUCCEEDED.value:
            raise ValidationFailed({"amount": "payment_not_refundable"})
        if (
            not registry.get_adapter(payment.provider).capabilities.partial_refunds
            and amount_minor != payment.amount_minor
        ):
            raise ValidationFailed({"amount": "only_full_refunds"})
        in_flight = sum(
            r.amount_minor
            for r in db.exec(
                select(Refund).where(Refund.payment_id == payment.id, Refund.status.in_(_IN_FLIGHT))
            )  # type: ignore[attr-defined]
        )
        available = refundable_minor(payment.amount_minor, payment.refunded_minor, in_flight)
        if amount_minor <= 0:
            raise ValidationFailed({"amount": "amount_invalid"})
        if amount_minor > available:
            raise ValidationFailed({"amount": "amount_over_refundable"})
        refund = Refund(
            tenant_id=tenant_id,
            payment_id=payment.id,
            amount_minor=amount_minor,
            currency=payment.currency,
            idempotency_key=f"wb-refund-{new_id()}",
            reason=reason,
            requested_by=principal.user_id,
        )
        db.add(refund)
        db.flush()
        audit.record(
            db,
            action="refund.requested",
            actor_user_id=principal.user_id,
            tenant_id=tenant_id,
            target_type="payment",
            target_id=str(payment.id),
            details={
                "refund_id": str(refund.id),
                "amount_minor": amount_minor,
                "currency": payment.currency,
            },
        )
        requested = RefundRequested(refund.id, amount_minor, payment.currency)
    # After the commit: the worker must find the row it is told about.
    task_queue.enqueue(SUBMIT_TASK, str(requested.refund_id), queue="default")
    return requested


def submit(refund_id: UUID) -> str:
    """Send a stored refund to its provider; "sent", "already_sent" or "refused"."""
    with session_scope() as db:
        refund = db.get(Refund, refund_id)
        if refund is None:
            return "missing"
        if refund.status != RefundStatus.REQUESTED.value or refund.provider_reference:
            return "already_sent"
        payment = db.get(Payment, refund.payment_id)
        assert payment is not None and payment.provider_reference
        provider, tenant_id = payment.provider, payment.tenant_id
        call = (
            payment.provider_reference,
            refund.amount_minor,
            refund.currency,
            str(refund.id),
            refund.idempotency_key,
        )
    adapter = registry.get_adapter(provider)
    account = payment_accounts.provider_account(tenant_id, provider)
    try:
        with httpx.Client(trust_env=False) as client:
            result = adapter.refund(*call, account, client)
    except ProviderRejected as refused:
        # The provider said no for good (not a timeout): the refund fails, visibly, with why.
        result = RefundResult("", RefundStatus.FAILED, call[1], str(refund_id))
        _record(refund_id, result, f"refused by {provider}: {refused}")
        return "refused"
    _record(refund_id, result, "")
    return "sent"


def _record(refund_id: UUID, result: RefundResult, failure: str) -> None:
    with session_scope() as db:
        refund = db.get(Refund, refund_id)
        assert refund is not None
        payment = db.exec(
            select(Payment).where(Payment.id == refund.payment_id).with_for_update()
        ).one()
        if failure:
            refund.reason = (f"{refund.reason} [{failure}]" if refund.reason else failure)[
                :REASON_MAX
            ]
            db.add(refund)
        # Our id goes with the answer so that the refund is found even before it has a reference.
        payment_apply.apply_refund_result(
            db,
            payment,
            RefundResult(
                result.refund_reference, result.status, result.amount_minor, str(refund_id)
            ),
        )


def unsent(limit: int = 100) -> list[UUID]:
    """Refunds stored but never accepted by their provider (a worker died, the broker lost it)."""
    with session_scope() as db:
        return list(
            db.exec(
                select(Refund.id)
                .where(
                    Refund.status == RefundStatus.REQUESTED.value,
                    Refund.provider_reference.is_(None),
                )  # type: ignore[union-attr]
                .order_by(Refund.created_at)
                .limit(limit)
            )
        )
