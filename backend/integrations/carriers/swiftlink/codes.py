"""SwiftLink's raw event codes -> our (status, reason), as docs/carriers.md lists them."""

from __future__ import annotations

from backend.domain.statuses import ShipmentStatus as S
from backend.domain.tracking import Reason

CODES: dict[str, tuple[S, str]] = {
    "CREATED": (S.PENDING, ""),
    "COLLECTED": (S.PICKED_UP, ""),
    "IN_TRANSIT": (S.IN_TRANSIT, ""),
    "OUT_FOR_DELIVERY": (S.OUT_FOR_DELIVERY, ""),
    "DELIVERED": (S.DELIVERED, ""),
    "ATTEMPT_FAILED": (S.DELIVERY_FAILED, Reason.RECIPIENT_ABSENT.value),
    "AT_LOCKER": (S.READY_FOR_PICKUP, Reason.HELD_AT_DEPOT.value),
    "EXCEPTION_DAMAGED": (S.EXCEPTION, Reason.DAMAGED.value),
    "RETURNING": (S.RETURNING, ""),
    "RETURNED": (S.RETURNED, ""),
    "CANCELLED": (S.CANCELLED, ""),
}


def map_code(raw: str) -> tuple[S, str]:
    """Our status and reason for a raw code; (UNKNOWN, "") when it is not in the table."""
    return CODES.get(raw, (S.UNKNOWN, ""))
