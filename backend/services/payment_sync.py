"""Calls out to providers about existing payments: re-read, capture, and the reconciler's sweep.

Each call reads the payment's ids first, calls the provider without holding a lock
(a slow provider must not block webhooks for the same payment), then applies the
answer under the row lock. Captures carry an idempotency key derived from the
payment's own, so a retried capture never captures twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import httpx
from sqlmodel import select

from backend.db import session_scope
from backend.domain.payment_lifecycle import FINAL_PAYMENT_STATUSES
from backend.domain.statuses import PaymentStatus, RefundStatus
from backend.integrations.payments import registry
from backend.integrations.payments.base import PaymentProviderError, ProviderPayment
from backend.models import Payment, Refund
from backend.models.base import utcnow
from backend.services import payment_accounts, payment_apply

RECONCILE_AFTER = timedelta(minutes=2)  # give webhooks a head start before we ask
RECONCILE_FOR = timedelta(days=3)  # a payment left open longer than this is staff's to chase


@dataclass(frozen=True)
class _Target:
    payment_id: UUID
    tenant_id: UUID
    provider: str
    provider_reference: str
    idempotency_key: str
    status: str


def _target(payment_id: UUID) -> _Target | None:
    with session_scope() as db:
        p = db.get(Payment, payment_id)
        if p is None or not p.provider_reference:
            return None
        return _Target(
            p.id, p.tenant_id, p.provider, p.provider_reference, p.idempotency_key, p.status
        )


def _adopt(payment_id: UUID, truth: ProviderPayment, *, authoritative: bool) -> bool:
    with session_scope() as db:
        payment = db.exec(select(Payment).where(Payment.id == payment_id).with_for_update()).one()
        return payment_apply.apply_truth(db, payment, truth, authoritative=authoritative)


def reread(payment_id: UUID) -> bool:
    """Ask the provider for the payment and adopt its answer; True when something changed."""
    target = _target(payment_id)
    if target is None:
        return False
    adapter = registry.get_adapter(target.provider)
    account = payment_accounts.provider_account(target.tenant_id, target.provider)
    with httpx.Client(trust_env=False) as client:
        truth = adapter.fetch_payment(target.provider_reference, account, client)
    return _adopt(payment_id, truth, authoritative=adapter.capabilities.fetch_is_authoritative)


def capture(payment_id: UUID) -> bool:
    """Capture an approved payment at a provider that captures separately (PayPal)."""
    target = _target(payment_id)
    if target is None or target.status != PaymentStatus.AUTHORIZED.value:
        return False
    adapter = registry.get_adapter(target.provider)
    if not adapter.capabilities.capture_after_approval:
        return False
    account = payment_accounts.provider_account(target.tenant_id, target.provider)
    with httpx.Client(trust_env=False) as client:
        truth = adapter.capture(
            target.provider_reference, f"{target.idempotency_key}-capture", account, client
        )
    return _adopt(payment_id, truth, authoritative=True)  # the capture's own answer


def reconcile_candidates(limit: int = 200) -> list[UUID]:
    """Payments not final, or with refunds not settled, old enough that webhooks should have come."""
    now = utcnow()
    open_refunds = select(Refund.payment_id).where(
        Refund.status.in_([RefundStatus.REQUESTED.value, RefundStatus.PENDING.value])  # type: ignore[attr-defined]
    )
    with session_scope() as db:
        return list(
            db.exec(
                select(Payment.id)
                .where(
                    Payment.provider_reference.is_not(None),  # type: ignore[union-attr]
                    Payment.updated_at < now - RECONCILE_AFTER,
                    Payment.created_at > now - RECONCILE_FOR,
                    (Payment.status.not_in([s.value for s in FINAL_PAYMENT_STATUSES]))  # type: ignore[attr-defined]
                    | Payment.id.in_(open_refunds),  # type: ignore[attr-defined]
                )
                .order_by(Payment.updated_at)
                .limit(limit)
            )
        )


def reconcile(payment_id: UUID) -> str:
    """One payment of the sweep: "changed", "same" or "error" (counted, never raised)."""
    try:
        return "changed" if reread(payment_id) else "same"
    except PaymentProviderError:
        return "error"
    finally:
        # Whatever the answer, look again only after RECONCILE_AFTER: the sweep moves on.
        with session_scope() as db:
            payment = db.get(Payment, payment_id)
            if payment is not None:
                payment.updated_at = utcnow()
                db.add(payment)


def status_of(payment_id: UUID) -> str:
    with session_scope() as db:
        payment = db.get(Payment, payment_id)
        return payment.status if payment else ""
