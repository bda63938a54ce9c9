"""The shipment state machine: which status may follow which, and the status a timeline adds up to.

The status is never updated event by event in arrival order. It is derived by
replaying the whole timeline in the order things happened, through the table of
allowed transitions, so a duplicated, late or re-ordered stream of events ends in
the same status as the clean one. An event that is not an allowed step (an older
scan arriving after delivery, say) stays in the timeline and changes nothing; an
unknown code never moves the status either: staff are told instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backend.domain.statuses import FINAL_SHIPMENT_STATUSES
from backend.domain.statuses import ShipmentStatus as S

_MOVING = {S.IN_TRANSIT, S.CUSTOMS, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.DELIVERY_FAILED}
_ENDINGS = {S.RETURNING, S.RETURNED, S.DELIVERED}

ALLOWED: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.PICKED_UP, *_MOVING, S.EXCEPTION, *_ENDINGS, S.CANCELLED}),
    S.UNKNOWN: frozenset({S.PENDING, S.PICKED_UP, *_MOVING, S.EXCEPTION, *_ENDINGS, S.CANCELLED}),
    S.PICKED_UP: frozenset({*_MOVING, S.EXCEPTION, *_ENDINGS, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({*_MOVING, S.EXCEPTION, *_ENDINGS}),
    S.CUSTOMS: frozenset(
        {S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.EXCEPTION, *_ENDINGS}
    ),
    S.OUT_FOR_DELIVERY: frozenset(
        {S.DELIVERED, S.DELIVERY_FAILED, S.READY_FOR_PICKUP, S.EXCEPTION, S.RETURNING}
    ),
    # After a failed attempt the parcel goes back to the depot, out again, or to a locker.
    S.DELIVERY_FAILED: frozenset(
        {S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.EXCEPTION, *_ENDINGS}
    ),
    S.READY_FOR_PICKUP: frozenset({S.DELIVERED, S.EXCEPTION, S.RETURNING, S.RETURNED}),
    # An exception can be resolved: the parcel moves on, goes back, or is written off.
    S.EXCEPTION: frozenset({*_MOVING, *_ENDINGS, S.CANCELLED}),
    S.RETURNING: frozenset({S.RETURNED, S.EXCEPTION}),
    S.RETURNED: frozenset(),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}


def can_move(current: S, new: S) -> bool:
    return new in ALLOWED[current]


def is_final(status: S | str) -> bool:
    return S(status) in FINAL_SHIPMENT_STATUSES


@dataclass(frozen=True)
class TimelineEvent:
    occurred_at: datetime
    event_key: str  # breaks ties between events of the same instant, identically every time
    status: S
    reason: str = ""


@dataclass(frozen=True)
class Derived:
    status: S
    reason: str
    last_event_at: datetime | None
    unknown_events: int  # events whose code we could not map: for staff


def derive(events: Iterable[TimelineEvent], start: S = S.PENDING) -> Derived:
    """Replay the timeline in the order things happened and return where it ends."""
    status, reason = start, ""
    last_event_at: datetime | None = None
    unknown = 0
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_key)):
        last_event_at = event.occurred_at
        if event.status is S.UNKNOWN:
            unknown += 1
        elif event.status is status:
            reason = event.reason or reason  # the same status again may say more about why
        elif can_move(status, event.status):
            status, reason = event.status, event.reason
    return Derived(status, reason, last_event_at, unknown)
