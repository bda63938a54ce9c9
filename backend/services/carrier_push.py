"""Carrier pushes: verify the raw bytes, store them in the inbox, apply them later in a worker.

A forged, stale or unreadable push is refused before anything is stored. An
accepted one is kept whole (headers and body) and unique per carrier, tenant and
event id, so a re-delivery is a no-op. A worker applies it after the commit; if
that fails the row stays, with its error, for the retry and for staff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from sqlmodel import select

from backend.db import session_scope
from backend.domain.statuses import WebhookState
from backend.integrations.carriers import registry
from backend.integrations.carriers.base import PushRejected
from backend.models import Carrier, CarrierAccount, Tenant
from backend.models.base import utcnow
from backend.services import shipment_events, tracking_sync, webhook_inbox
from backend.services.errors import NotFound

MAX_PUSH_BYTES = 64 * 1024


@dataclass(frozen=True)
class Received:
    inbox_id: UUID
    duplicate: bool


def _account_id(carrier_slug: str, tenant_slug: str) -> UUID:
    with session_scope() as db:
        found = db.exec(
            select(CarrierAccount.id)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .join(Tenant, Tenant.id == CarrierAccount.tenant_id)
            .where(
                Carrier.slug == carrier_slug, Tenant.slug == tenant_slug, CarrierAccount.is_active
            )
        ).first()
    if found is None:
        raise NotFound("no such carrier account")
    return found


def receive(
    carrier_slug: str, tenant_slug: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """Verify and store one push; raise PushRejected (4xx) or NotFound (404)."""
    if len(body) > MAX_PUSH_BYTES:
        raise PushRejected("body too large")
    try:
        adapter = registry.get_adapter(carrier_slug)
    except KeyError as exc:
        raise NotFound("no such carrier") from exc
    ctx = tracking_sync.account_context(_account_id(carrier_slug, tenant_slug))
    events = adapter.parse_push(headers, body, ctx.creds, utcnow())
    event_id = events[0].event_id if events else hashlib.sha256(body).hexdigest()
    stored = webhook_inbox.store(
        kind="carrier",
        provider=carrier_slug,
        tenant_id=ctx.tenant_id,
        event_id=event_id,
        event_type=events[0].raw_code if events else "",
        headers=webhook_inbox.kept_headers(headers, ("x-",)),
        body=body,
    )
    return Received(stored.inbox_id, stored.duplicate)


def apply(inbox_id: UUID) -> bool:
    """Apply a stored push once; True when applied now, False when there was nothing to do."""
    claimed = webhook_inbox.claim(inbox_id)
    if claimed is None:
        return False
    try:
        account_id = _account_for_tenant(claimed.provider, claimed.tenant_id)
        ctx = tracking_sync.account_context(account_id)
        # Checked again as of its arrival, so a replay by staff hours later still passes.
        events = registry.get_adapter(claimed.provider).parse_push(
            claimed.headers, claimed.body, ctx.creds, claimed.received_at
        )
        shipment_events.apply_events(
            claimed.tenant_id,
            claimed.provider,
            events,
            source="push",
            carrier_account_id=account_id,
        )
    except Exception as error:
        webhook_inbox.finish(inbox_id, WebhookState.FAILED, f"{type(error).__name__}: {error}")
        raise
    webhook_inbox.finish(inbox_id, WebhookState.PROCESSED)
    return True


def _account_for_tenant(carrier_slug: str, tenant_id: UUID) -> UUID:
    with session_scope() as db:
        return db.exec(
            select(CarrierAccount.id)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .where(Carrier.slug == carrier_slug, CarrierAccount.tenant_id == tenant_id)
        ).one()
