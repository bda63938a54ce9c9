"""Payment jobs: apply stored webhooks, capture approvals, send refunds, and the reconcilers."""

from __future__ import annotations

from uuid import UUID

from backend.integrations.payments.base import ProviderUnavailable
from backend.jobs.celery_app import celery_app
from backend.services import live_updates, payment_sync, payment_webhooks, refunds, webhook_inbox
from backend.services.payment_webhooks import Outcome

WAIT_RETRIES = 5  # an event that beat our own checkout call: 2, 4, 8, 16, 32 s, then the reconciler


@celery_app.task(
    name="waybill.webhooks.apply_payment",
    bind=True,
    acks_late=True,
    max_retries=8,
    ignore_result=True,
)
def apply_payment(self, inbox_id: str) -> str:
    try:
        result = payment_webhooks.apply(UUID(inbox_id))
    except Exception as error:
        raise self.retry(exc=error, countdown=min(2**self.request.retries, 300)) from error
    if result.outcome is Outcome.WAITING and self.request.retries < WAIT_RETRIES:
        raise self.retry(countdown=2 ** (self.request.retries + 1))
    if result.needs_capture and result.payment_id:
        capture.apply_async(args=[str(result.payment_id)], queue="default")
    if result.outcome is Outcome.APPLIED and result.order_id:
        live_updates.publish(f"order:{result.order_id}")
    return result.outcome.value


@celery_app.task(
    name="waybill.payments.capture", bind=True, acks_late=True, max_retries=8, ignore_result=True
)
def capture(self, payment_id: str) -> bool:
    try:
        return payment_sync.capture(UUID(payment_id))
    except ProviderUnavailable as error:
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 600)) from error


@celery_app.task(
    name="waybill.payments.submit_refund",
    bind=True,
    acks_late=True,
    max_retries=10,
    ignore_result=True,
)
def submit_refund(self, refund_id: str) -> str:
    try:
        return refunds.submit(UUID(refund_id))
    except ProviderUnavailable as error:
        # The idempotency key makes this retry safe even if the provider did act before timing out.
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 600)) from error


@celery_app.task(name="waybill.webhooks.reconcile_payment_inbox", ignore_result=True)
def reconcile_payment_inbox() -> int:
    """Re-enqueue stored events never applied (a Redis restart loses queued messages)."""
    stale = webhook_inbox.stale_ids("payment")
    for inbox_id in stale:
        apply_payment.apply_async(args=[str(inbox_id)], queue="webhooks")
    return len(stale)


@celery_app.task(name="waybill.payments.reconcile", ignore_result=True)
def reconcile_payments() -> dict[str, int]:
    """Re-read open payments and refunds from their providers; resend refunds never sent."""
    counts = {"changed": 0, "same": 0, "error": 0, "refunds_resent": 0}
    for payment_id in payment_sync.reconcile_candidates():
        outcome = payment_sync.reconcile(payment_id)
        counts[outcome] += 1
    for refund_id in refunds.unsent():
        submit_refund.apply_async(args=[str(refund_id)], queue="default")
        counts["refunds_resent"] += 1
    return counts
