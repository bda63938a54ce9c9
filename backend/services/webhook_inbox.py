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
from functools import lru_cache
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlmodel import select

from backend.db import driver_autocommit, session_scope
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


_STORED_COLUMNS = (
    "id", "tenant_id", "kind", "provider", "event_id", "event_type", "headers", "body",
    "state", "attempts", "last_error", "received_at",
)  # fmt: skip


@lru_cache(maxsize=1)
def _store_sql() -> tuple[str, str]:
    """The insert that stores a delivery unless it is in already, and the look-up of the one
    that is: compiled once from the model, run on the driver connection (prepared there)."""
    stored = (
        insert(WebhookInbox)
        .values({column: bindparam(column) for column in _STORED_COLUMNS})
        .on_conflict_do_nothing(constraint="webhook_event_once")
        .returning(WebhookInbox.id)
    )
    existing = select(WebhookInbox.id).where(
        WebhookInbox.kind == bindparam("kind"),
        WebhookInbox.provider == bindparam("provider"),
        WebhookInbox.tenant_id == bindparam("tenant_id"),
        WebhookInbox.event_id == bindparam("event_id"),
    )
    dialect = psycopg_dialect()
    return str(stored.compile(dialect=dialect)), str(existing.compile(dialect=dialect))


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

    Single statements on an autocommit driver connection: this runs for every delivery,
    before the provider gets its answer, and the insert is atomic on its own.
    """
    insert_sql, existing_sql = _store_sql()
    row = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "kind": kind,
        "provider": provider,
        "event_id": event_id[:200],
        "event_type": event_type[:100],
        "headers": Jsonb(headers),
        "body": body,
        "state": WebhookState.RECEIVED.value,
        "attempts": 0,
        "last_error": "",
        "received_at": utcnow(),
    }
    with driver_autocommit() as connection:
        inserted = connection.execute(insert_sql, row).fetchone()
        if inserted is not None:
            return Stored(inserted[0], duplicate=False)
        (existing,) = connection.execute(existing_sql, row).fetchone()  # type: ignore[misc]
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
