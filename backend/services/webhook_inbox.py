"""The webhook inbox shared by carriers and payment providers: store once, lock to apply, finish.

Raw headers and body go in before anything else happens, unique per (kind,
provider, tenant, event id), so a re-delivery is a no-op and a crash loses nothing.
A worker claims a row (counting the attempt; a row another worker is claiming at that
moment is skipped), re-verifies the stored bytes, applies, and records the outcome;
failures keep their error for the retry and for staff, who can replay any row. Two
workers can still hold one event at once (a redelivery while the first is slow):
applying is safe twice, because the payment or shipment row is locked while the event
is applied and states only move forward, and an outcome never turns an applied row
back into a failed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select

from backend.db import autocommit, session_scope
from backend.domain.ids import new_id
from backend.domain.statuses import WebhookState
from backend.models import WebhookInbox
from backend.models.base import utcnow

MAX_ATTEMPTS = 10  # after this many the reconciler leaves a row to staff
_KEPT_HEADERS = {"content-type", "user-agent"}


@dataclass(frozen=True)
class Stored:
    inbox_id: UUID
    duplicate: bool


@dataclass(frozen=True)
class Claimed:
    """A row claimed for applying: what the worker needs, read under the row lock."""

    inbox_id: UUID
    tenant_id: UUID
    provider: str
    event_id: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    attempts: int


def kept_headers(headers: Mapping[str, str], prefixes: tuple[str, ...]) -> dict[str, str]:
    """The headers worth keeping for re-verification: content type, agent and the provider's own."""
    return {
        k.lower(): v
        for k, v in headers.items()
        if k.lower() in _KEPT_HEADERS or k.lower().startswith(prefixes)
    }


def store(
    *,
    kind: str,
    provider: str,
    tenant_id: UUID,
    event_id: str,
    event_type: str,
    headers: dict[str, str],
    body: bytes,
) -> Stored:
    """Insert one delivery unless the same event is already in; say which happened.

    Two single statements on an autocommit connection: this runs for every delivery, before
    the provider gets its answer, and the insert is atomic on its own.
    """
    event_id = event_id[:200]
    with autocommit() as connection:
        row_id = connection.execute(
            insert(WebhookInbox)
            .values(
                id=new_id(),
                tenant_id=tenant_id,
                kind=kind,
                provider=provider,
                event_id=event_id,
                event_type=event_type[:100],
                headers=headers,
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
            return Stored(row_id, duplicate=False)
        existing = connection.execute(
            select(WebhookInbox.id).where(
                WebhookInbox.kind == kind,
                WebhookInbox.provider == provider,
                WebhookInbox.tenant_id == tenant_id,
                WebhookInbox.event_id == event_id,
            )
        ).scalar_one()
        return Stored(existing, duplicate=True)


def claim(inbox_id: UUID) -> Claimed | None:
    """Count an attempt and hand the row out, unless it is applied or another worker holds it."""
    with session_scope() as db:
        row = db.exec(
            select(WebhookInbox)
            .where(WebhookInbox.id == inbox_id)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None or row.state == WebhookState.PROCESSED.value:
            return None
        row.attempts += 1
        db.add(row)
        return Claimed(
            row.id,
            row.tenant_id,
            row.provider,
            row.event_id,
            dict(row.headers),
            bytes(row.body),
            row.received_at,
            row.attempts,
        )


def finish(
    inbox_id: UUID, state: WebhookState, error: str = "", subject_id: UUID | None = None
) -> None:
    with session_scope() as db:
        row = db.exec(
            select(WebhookInbox).where(WebhookInbox.id == inbox_id).with_for_update()
        ).first()
        if row is None:
            return
        if row.state == WebhookState.PROCESSED.value and state is not WebhookState.PROCESSED:
            return  # another worker applied it meanwhile: its outcome stands
        row.state, row.last_error = state.value, error[:2000]
        if subject_id is not None:
            row.subject_id = subject_id
        if state is WebhookState.PROCESSED:
            row.processed_at = utcnow()
        db.add(row)


def replay(inbox_id: UUID) -> bool:
    """Make a row applicable again (staff): its attempts start over; True when it existed."""
    with session_scope() as db:
        row = db.get(WebhookInbox, inbox_id)
        if row is None:
            return False
        row.state, row.attempts, row.last_error = WebhookState.RECEIVED.value, 0, ""
        db.add(row)
        return True


def stale_ids(
    kind: str, older_than: timedelta = timedelta(minutes=1), limit: int = 500
) -> list[UUID]:
    """Rows left unapplied (a lost queue message, a crashed worker, an event that waited for its
    object): the reconciler re-enqueues them until MAX_ATTEMPTS."""
    pending = [WebhookState.RECEIVED.value, WebhookState.FAILED.value, WebhookState.WAITING.value]
    with session_scope() as db:
        return list(
            db.exec(
                select(WebhookInbox.id)
                .where(
                    WebhookInbox.kind == kind,
                    WebhookInbox.state.in_(pending),  # type: ignore[attr-defined]
                    WebhookInbox.received_at < utcnow() - older_than,
                    WebhookInbox.attempts < MAX_ATTEMPTS,
                )
                .order_by(WebhookInbox.received_at)
                .limit(limit)
            )
        )
