"""Tracking jobs: beat hands out due parcels; workers poll carriers; pushes are applied; stragglers re-sent."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from backend.jobs.celery_app import celery_app
from backend.services import carrier_push, tracking_sync, webhook_inbox

RETRY_OUTCOMES = {"rate_limited", "no_token", "unavailable"}
# Batches wait below everything else on the tracking queue (with Redis, 0 is the highest
# priority and the default). Otherwise beat's next dispatch would queue behind the batches the
# last one handed out, and expire there (5 s) whenever they are more than 5 s of work: the
# workers would run dry exactly when a carrier is busiest. Retries keep the priority.
BATCH_PRIORITY = 6


@celery_app.task(name="waybill.tracking.dispatch", ignore_result=True)
def dispatch() -> int:
    batches = tracking_sync.dispatch_due()
    for batch in batches:
        sync_batch.apply_async(
            args=[str(batch.account_id), [str(i) for i in batch.shipment_ids]],
            queue="tracking",
            priority=BATCH_PRIORITY,
        )
    return len(batches)


@celery_app.task(
    name="waybill.tracking.sync_batch", bind=True, acks_late=True, max_retries=8, ignore_result=True
)
def sync_batch(self, account_id: str, shipment_ids: list[str]) -> str:
    outcome = tracking_sync.sync_batch(UUID(account_id), [UUID(i) for i in shipment_ids])
    if outcome.outcome in RETRY_OUTCOMES:
        # Back off: the carrier's Retry-After when it gave one, else exponentially.
        countdown = outcome.retry_after or min(2**self.request.retries, 60)
        raise self.retry(countdown=countdown)
    return outcome.outcome


@celery_app.task(name="waybill.tracking.request_resends", ignore_result=True)
def request_resends() -> int:
    return tracking_sync.request_resends(since=timedelta(minutes=15))


@celery_app.task(
    name="waybill.webhooks.apply_carrier_push",
    bind=True,
    acks_late=True,
    max_retries=8,
    ignore_result=True,
)
def apply_carrier_push(self, inbox_id: str) -> bool:
    try:
        return carrier_push.apply(UUID(inbox_id))
    except Exception as error:
        raise self.retry(exc=error, countdown=min(2**self.request.retries, 300)) from error


@celery_app.task(name="waybill.webhooks.reconcile_carrier_inbox", ignore_result=True)
def reconcile_carrier_inbox() -> int:
    """Re-enqueue pushes stored but never applied (a Redis restart loses queued messages)."""
    stale = webhook_inbox.stale_ids("carrier")
    for inbox_id in stale:
        apply_carrier_push.apply_async(args=[str(inbox_id)], queue="webhooks")
    return len(stale)
