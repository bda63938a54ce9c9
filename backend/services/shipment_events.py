"""Apply what a carrier said (polled or pushed) to our shipments, once, whatever the order.

Each event is inserted at most once (unique per shipment and carrier event id);
then the shipment's status is derived again from its whole timeline under a row
lock, so a poll and a push arriving together cannot interleave, and a re-sent or
re-ordered event changes nothing it should not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.config import get_settings
from backend.db import session_scope
from backend.domain import poll_cadence, shipment_lifecycle
from backend.domain.ids import new_id
from backend.domain.statuses import ShipmentStatus
from backend.integrations.carriers.base import CarrierEvent
from backend.models import Shipment, TrackingEvent
from backend.models.base import utcnow
from backend.services import live_updates


@dataclass
class ApplyOutcome:
    added: int = 0
    duplicates: int = 0
    unknown_shipments: int = 0  # numbers the carrier told us about that we do not have
    status_changes: int = 0
    unknown_codes: int = 0
    changed_numbers: list[str] = field(default_factory=list)  # shipments with new events


def dedupe_key(carrier_slug: str, event: CarrierEvent) -> str:
    return f"{carrier_slug}:{event.event_id}"[:120]


def apply_events(
    tenant_id: UUID,
    carrier_slug: str,
    events: list[CarrierEvent],
    *,
    source: str,
    carrier_account_id: UUID | None = None,
) -> ApplyOutcome:
    """Record `events` for the tenant's shipments they name, and move each shipment's status."""
    outcome = ApplyOutcome()
    by_number: dict[str, list[CarrierEvent]] = defaultdict(list)
    for event in events:
        by_number[event.tracking_number].append(event)
    if not by_number:
        return outcome
    with session_scope() as db:
        query = select(Shipment).where(
            Shipment.tenant_id == tenant_id,
            func.coalesce(
                func.nullif(Shipment.carrier_reference, ""), Shipment.tracking_number
            ).in_(list(by_number)),
        )
        if carrier_account_id is not None:
            query = query.where(Shipment.carrier_account_id == carrier_account_id)
        # Lock in a fixed order so two appliers of overlapping batches cannot deadlock.
        shipments = db.exec(query.order_by(Shipment.id).with_for_update()).all()
        found = {s.carrier_reference or s.tracking_number: s for s in shipments}
        outcome.unknown_shipments = sum(len(v) for k, v in by_number.items() if k not in found)
        for number, shipment in found.items():
            _apply_to_shipment(db, shipment, carrier_slug, by_number[number], source, outcome)
    # Committed: pages showing these parcels refresh (a lost push only means a later refresh).
    live_updates.publish_each([f"shipment:{n}" for n in outcome.changed_numbers])
    return outcome


def _apply_to_shipment(
    db: Session,
    shipment: Shipment,
    carrier_slug: str,
    events: list[CarrierEvent],
    source: str,
    outcome: ApplyOutcome,
) -> None:
    now = utcnow()
    added_before = outcome.added
    for event in events:
        inserted = db.execute(
            insert(TrackingEvent)
            .values(
                id=new_id(),
                tenant_id=shipment.tenant_id,
                shipment_id=shipment.id,
                occurred_at=event.occurred_at,
                recorded_at=now,
                status=event.status.value,
                reason=event.reason[:40],
                raw_code=event.raw_code[:40],
                description=event.description[:300],
                city=event.city[:60],
                country=event.country[:2],
                source=source,
                dedupe_key=dedupe_key(carrier_slug, event),
                raw=event.raw,
            )
            .on_conflict_do_nothing(constraint="tracking_event_once")
            .returning(TrackingEvent.id)
        ).scalar()
        if inserted is not None:
            outcome.added += 1
            outcome.unknown_codes += event.status is ShipmentStatus.UNKNOWN
        else:
            outcome.duplicates += 1
    if outcome.added > added_before:
        outcome.changed_numbers.append(shipment.tracking_number)
    _rederive(db, shipment, now, outcome)


def _rederive(db: Session, shipment: Shipment, now: datetime, outcome: ApplyOutcome) -> None:
    timeline = [
        shipment_lifecycle.TimelineEvent(
            e.occurred_at, e.dedupe_key, ShipmentStatus(e.status), e.reason
        )
        for e in db.exec(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id))
    ]
    derived = shipment_lifecycle.derive(timeline)
    changed = (derived.status.value, derived.reason) != (shipment.status, shipment.status_reason)
    if changed:
        outcome.status_changes += 1
        shipment.status, shipment.status_reason = derived.status.value, derived.reason
        shipment.version += 1
        shipment.updated_at = now
    shipment.last_event_at = derived.last_event_at
    shipment.next_poll_at = poll_cadence.next_poll_at(
        shipment.status, shipment.last_event_at, now, get_settings().tracking_poll_unit_seconds
    )
    db.add(shipment)
