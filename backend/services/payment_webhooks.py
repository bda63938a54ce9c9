"""Payment webhooks: verify the raw bytes with the tenant's secret, store, later apply in a worker.

receive() runs in the request: it refuses anything not proven to come from the
provider (WebhookRejected, a 4xx, nothing stored), stores each event of a genuine
delivery once in the inbox and returns the provider's expected answer. apply() runs
in a worker after the commit: it verifies the stored bytes again (as of their
arrival), finds the payment, and applies the event under the payment's row lock.
An event for a payment we cannot match yet waits; a conflict re-reads the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

import httpx
from sqlmodel import select

from backend.db import session_scope
from backend.domain.statuses import WebhookState
from backend.integrations.payments import registry
from backend.integrations.payments.base import (
    CHECKED_ON_ARRIVAL,
    CREDENTIAL_HEADERS,
    MAX_WEBHOOK_BYTES,
    WebhookAck,
    WebhookRejected,
)
from backend.models import Tenant
from backend.models.base import utcnow
from backend.services import payment_accounts, payment_apply, payment_sync, webhook_inbox
from backend.services.errors import NotFound


class Outcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # a repeat, or older than what we know
    WAITING = "waiting"  # no payment matches yet (the event beat our own checkout call)
    SKIPPED = "skipped"  # already processed, or another worker holds it


@dataclass(frozen=True)
class Received:
    ack: WebhookAck
    new_inbox_ids: list[UUID] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    payment_id: UUID | None = None
    order_id: UUID | None = None
    needs_capture: bool = False


def _tenant_id(slug: str) -> UUID:
    with session_scope() as db:
        found = db.exec(select(Tenant.id).where(Tenant.slug == slug, Tenant.is_active)).first()
    if found is None:
        raise NotFound("no such tenant")
    return found


def receive(provider: str, tenant_slug: str, headers: Mapping[str, str], body: bytes) -> Received:
    """Verify and store one delivery; WebhookRejected (4xx) or NotFound (404) refuse it."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    try:
        adapter = registry.get_adapter(provider)
    except KeyError:
        raise NotFound("no such provider") from None
    if CHECKED_ON_ARRIVAL in headers.values():
        raise WebhookRejected("a header carries our own storage marker")
    tenant_id = _tenant_id(tenant_slug)
    account = payment_accounts.provider_account(tenant_id, provider)
    with httpx.Client(trust_env=False) as client:
        events = adapter.verify_webhook(headers, body, account, utcnow(), client)
    kept = {
        k.lower(): (CHECKED_ON_ARRIVAL if k.lower() in CREDENTIAL_HEADERS else v)
        for k, v in headers.items()
    }
    new, duplicates = [], 0
    for event in {e.event_id: e for e in events}.values():
        stored = webhook_inbox.store(
            kind="payment",
            provider=provider,
            tenant_id=tenant_id,
            event_id=event.event_id,
            event_type=event.event_type,
            headers=kept,
            body=body,
        )
        if stored.duplicate:
            duplicates += 1
        else:
            new.append(stored.inbox_id)
    return Received(adapter.webhook_ack, new, duplicates)


def apply(inbox_id: UUID) -> ApplyResult:
    """Apply one stored event once; failures are recorded on the row and raised for the retry."""
    claimed = webhook_inbox.claim(inbox_id)
    if claimed is None:
        return ApplyResult(Outcome.SKIPPED)
    try:
        result = _apply_claimed(claimed)
    except Exception as error:
        webhook_inbox.finish(inbox_id, WebhookState.FAILED, f"{type(error).__name__}: {error}")
        raise
    if result.outcome is Outcome.WAITING:
        webhook_inbox.finish(inbox_id, WebhookState.WAITING, "no payment matches this event yet")
    else:
        webhook_inbox.finish(inbox_id, WebhookState.PROCESSED, subject_id=result.payment_id)
    return result


def _apply_claimed(claimed: webhook_inbox.Claimed) -> ApplyResult:
    adapter = registry.get_adapter(claimed.provider)
    account = payment_accounts.provider_account(claimed.tenant_id, claimed.provider)
    with httpx.Client(trust_env=False) as client:
        # Checked again as of its arrival: a replay by staff days later still passes.
        events = adapter.verify_webhook(
            claimed.headers, claimed.body, account, claimed.received_at, client
        )
    event = next((e for e in events if e.event_id[:200] == claimed.event_id), None)
    if event is None:
        raise WebhookRejected("the stored delivery no longer contains this event")
    with session_scope() as db:
        payment = payment_apply.match_payment(db, claimed.tenant_id, claimed.provider, event)
        if payment is None:
            return ApplyResult(Outcome.WAITING)
        payment_id, order_id = payment.id, payment.order_id
        provider_reference = payment.provider_reference
        if not adapter.capabilities.confirm_events_by_fetch:
            applied = payment_apply.apply_event(
                db, payment, event, captures_later=adapter.capabilities.capture_after_approval
            )
    if adapter.capabilities.confirm_events_by_fetch:
        # The event only says "look": the provider's own record is what we apply.
        changed = payment_sync.reread(payment_id) if provider_reference else False
        needs_capture = (
            adapter.capabilities.capture_after_approval
            and payment_sync.status_of(payment_id) == "authorized"
        )
        outcome = Outcome.APPLIED if changed else Outcome.UNCHANGED
        return ApplyResult(outcome, payment_id, order_id, needs_capture)
    if applied.conflict and provider_reference:
        # Order mattered here: the provider's own record of the payment settles it.
        payment_sync.reread(applied.payment_id)
    outcome = Outcome.APPLIED if applied.changed or applied.conflict else Outcome.UNCHANGED
    return ApplyResult(outcome, applied.payment_id, applied.order_id, applied.needs_capture)
