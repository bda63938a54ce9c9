"""Payment webhooks: verify the raw bytes with the tenant's secret, store, later apply in a worker.

receive() runs in the request: it refuses anything not proven to come from the
provider (WebhookRejected, a 4xx, nothing stored), stores each event of a genuine
delivery once in the inbox and returns the provider's expected answer. apply() runs
in a worker after the commit: it verifies the stored bytes again (as of their
arrival), finds the payment, and applies the event under the payment's row lock.
An event for a payment we cannot match yet waits; a conflict re-reads the provider.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from uuid import UUID

import httpx

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
from backend.models.base import utcnow
from backend.services import payment_accounts, payment_apply, payment_sync, tenants, webhook_inbox
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


_client: tuple[int, httpx.Client] | None = None
_client_lock = threading.Lock()


def verification_client() -> httpx.Client:
    """The HTTP client that webhook verification may use (PayPal's certificates, WeChat Pay's
    platform keys): one per process, made on first use and again after a fork.

    Most providers' checks never call out, yet building an httpx.Client builds its TLS
    context, tens of milliseconds of CPU: made per delivery, it was half the cost of
    answering one. httpx clients may be shared between threads; this one keeps no cookies,
    so nothing one delivery's call was told is sent with another's.
    """
    global _client
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
            _client = (os.getpid(), httpx.Client(trust_env=False, cookies=no_cookies))
        return _client[1]


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
    tenant_id = tenants.cached_tenant_id(tenant_slug)  # unknown: NotFound (404)
    events = _verify(adapter, tenant_id, headers, body, utcnow())
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


def _verify(adapter, tenant_id: UUID, headers: Mapping[str, str], body: bytes, as_of):
    """The adapter's check with the recently opened account; refused, once more with the
    account read afresh (its secret may have just been rotated in another process)."""
    provider = adapter.slug
    account = payment_accounts.provider_account(tenant_id, provider, recent_ok=True)
    try:
        return adapter.verify_webhook(headers, body, account, as_of, verification_client())
    except WebhookRejected:
        fresh = payment_accounts.provider_account(tenant_id, provider)
        if fresh == account:
            raise
        return adapter.verify_webhook(headers, body, fresh, as_of, verification_client())


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
    # Checked again as of its arrival: a replay by staff days later still passes.
    events = _verify(adapter, claimed.tenant_id, claimed.headers, claimed.body, claimed.received_at)
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
