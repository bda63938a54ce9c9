"""How soon to ask a carrier about a parcel again: often when something is about to happen."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.statuses import FINAL_SHIPMENT_STATUSES
from backend.domain.statuses import ShipmentStatus as S

# In "units" so one setting scales the whole table (a minute in production, seconds in the demo).
_URGENT = {S.OUT_FOR_DELIVERY: 5, S.DELIVERY_FAILED: 10, S.EXCEPTION: 10, S.READY_FOR_PICKUP: 30}
_MOVING = {S.PICKED_UP: 30, S.IN_TRANSIT: 30, S.CUSTOMS: 60, S.RETURNING: 60, S.UNKNOWN: 30}
_NEW = 60  # pending: information received, nothing scanned yet
STALE_AFTER_UNITS = 3 * 24 * 60  # no movement for three days (in minutes at the production unit)
STALE_MULTIPLIER = 4


def next_poll_at(
    status: str, last_event_at: datetime | None, now: datetime, unit_seconds: float = 60.0
) -> datetime | None:
    """When to poll next; None for final parcels, which are never polled again."""
    current = S(status)
    if current in FINAL_SHIPMENT_STATUSES:
        return None
    units = _URGENT.get(current) or _MOVING.get(current) or _NEW
    quiet_for = (now - last_event_at) if last_event_at else None
    stale = quiet_for is not None and quiet_for > timedelta(
        seconds=STALE_AFTER_UNITS * unit_seconds
    )
    if stale and current not in _URGENT:
        units *= STALE_MULTIPLIER  # a parcel that has not moved for days will not move this minute
    return now + timedelta(seconds=units * unit_seconds)
