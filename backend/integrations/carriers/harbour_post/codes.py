"""Harbour Post's raw event codes -> our (status, reason), as docs/carriers.md lists them."""

from __future__ import annotations

from backend.domain.statuses import ShipmentStatus as S
from backend.domain.tracking import Reason

CODES: dict[str, tuple[S, str]] = {
    "IR": (S.PENDING, ""),
    "PU": (S.PICKED_UP, ""),
    "AH": (S.IN_TRANSIT, ""),
    "DP": (S.IN_TRANSIT, ""),
    "OD": (S.OUT_FOR_DELIVERY, ""),
    "DL": (S.DELIVERED, ""),
    "NA": (S.DELIVERY_FAILED, Reason.RECIPIENT_ABSENT.value),
    "BA": (S.DELIVERY_FAILED, Reason.BAD_ADDRESS.value),
    "LK": (S.READY_FOR_PICKUP, Reason.HELD_AT_DEPOT.value),
    "DM": (S.EXCEPTION, Reason.DAMAGED.value),
    "LS": (S.EXCEPTION, Reason.LOST.value),
    "WX": (S.IN_TRANSIT, Reason.WEATHER.value),
    "RT": (S.RETURNING, ""),
    "RS": (S.RETURNED, ""),
    "CA": (S.CANCELLED, ""),
}


def map_code(raw: str) -> tuple[S, str]:
    """Our status and reason for a raw code; (UNKNOWN, "") when it is not in the table."""
    return CODES.get(raw, (S.UNKNOWN, ""))
