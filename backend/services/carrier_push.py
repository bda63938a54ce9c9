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
from datetime import timedelta
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select

from backend.db import session_scope
from backend.domain.ids import new_id
from backend.domain.statuses import WebhookState
from backend.integrations.carriers import registry
from backend.integrations.carriers.base import PushRejected
from backend.models import Carrier, CarrierAccount, Tenant, WebhookInbox
from backend.models.base import utcnow
from backend.services import shipment_events, tracking_sync
from backend.services.errors import NotFound

MAX_PUSH_BYTES = 64 * 1024
_KEPT_HEADERS = {"content-type", "user-agent"}  # plus the carrier's own x- headers


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


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        k.lower(): v
        for k, v in headers.items()
        if k.lower() in _KEPT_HEADERS or k.lower().startswith("x-")
    }


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
    with session_scope() as db:
        row_id = db.execute(
            insert(WebhookInbox)
            .values(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                kind="carrier",
                provider=carrier_slug,
                event_id=event_id[:200],
                event_type=events[0].raw_code[:100] if events else "",
                headers=_kept(headers),
                body=body,
                state=WebhookState.RECEIVED.value,
                attempts=0,
                last_error="",
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(constraint="webhook_event_once")
            .returning(WebhookInbox.id)
        ).scalar()
        if row_id is not None:
            return Received(row_id, duplicate=False)
        existing = db.exec(
            select(WebhookInbox.id).where(
                WebhookInbox.kind == "carrier",
                WebhookInbox.provider == carrier_slug,
                WebhookInbox.tenant_id == ctx.tenant_id,
                WebhookInbox.event_id == event_id[:200],
            )
        ).one()
        return Received(existing, duplicate=True)


def apply(inbox_id: UUID) -> bool:
    """Apply a stored push once; True when applied now, False when there was nothing to do."""
    with session_scope() as db:
        row = db.exec(
            select(WebhookInbox)
            .where(WebhookInbox.id == inbox_id)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None or row.state == WebhookState.PROCESSED.value:
            return False
        carrier_slug, tenant_id, received_at = row.provider, row.tenant_id, row.received_at
        headers, body = dict(row.headers), bytes(row.body)
        row.attempts += 1
        db.add(row)
    try:
        account_id = _account_for_tenant(carrier_slug, tenant_id)
        ctx = tracking_sync.account_context(account_id)
        # Checked again as of its arrival, so a replay by staff hours later still passes.
        events = registry.get_adapter(carrier_slug).parse_push(
            headers, body, ctx.creds, received_at
        )
        shipment_events.apply_events(
            tenant_id, carrier_slug, events, source="push", carrier_account_id=account_id
        )
    except Exception as error:
        _finish(inbox_id, WebhookState.FAILED, f"{type(error).__name__}: {error}"[:2000])
        raise
    _finish(inbox_id, WebhookState.PROCESSED, "")
    return True


def _account_for_tenant(carrier_slug: str, tenant_id: UUID) -> UUID:
    with session_scope() as db:
        return db.exec(
            select(CarrierAccount.id)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .where(Carrier.slug == carrier_slug, CarrierAccount.tenant_id == tenant_id)
        ).one()


def _finish(inbox_id: UUID, state: WebhookState, error: str) -> None:
    with session_scope() as db:
        row = db.get(WebhookInbox, inbox_id)
        if row is not None:
            row.state, row.last_error = state.value, error
            row.processed_at = utcnow() if state is WebhookState.PROCESSED else row.processed_at
            db.add(row)


def stale_inbox_ids(
    kind: str = "carrier", older_than: timedelta = timedelta(minutes=1)
) -> list[UUID]:
    """Rows left unapplied (a lost queue message, a crashed worker): the reconciler re-enqueues them."""
    with session_scope() as db:
        return list(
            db.exec(
                select(WebhookInbox.id)
                .where(
                    WebhookInbox.kind == kind,
                    WebhookInbox.state.in_(
                        [WebhookState.RECEIVED.value, WebhookState.FAILED.value]
                    ),  # type: ignore[attr-defined]
                    WebhookInbox.received_at < utcnow() - older_than,
                    WebhookInbox.attempts < 10,
                )
                .limit(500)
            )
        )
