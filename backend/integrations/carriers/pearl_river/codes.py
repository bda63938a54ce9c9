"""Pearl River's raw event codes -> our (status, reason), as docs/carriers.md lists them."""

from __future__ import annotations

from backend.domain.statuses import ShipmentStatus as S
from backend.domain.tracking import Reason

CODES: dict[str, tuple[S, str]] = {
    "100": (S.PICKED_UP, ""),
    "200": (S.IN_TRANSIT, ""),
    "300": (S.CUSTOMS, ""),
    "310": (S.CUSTOMS, Reason.CUSTOMS_DOCUMENTS.value),
    "320": (S.CUSTOMS, Reason.CUSTOMS_DUTY.value),
    "390": (S.IN_TRANSIT, ""),
    "400": (S.OUT_FOR_DELIVERY, ""),
    "410": (S.DELIVERY_FAILED, Reason.RECIPIENT_ABSENT.value),
    "420": (S.READY_FOR_PICKUP, Reason.HELD_AT_DEPOT.value),
    "500": (S.DELIVERED, ""),
    "600": (S.RETURNING, ""),
    "610": (S.RETURNED, ""),
    "900": (S.CANCELLED, ""),
}


def map_code(raw: str) -> tuple[S, str]:
    """Our status and reason for a raw code; (UNKNOWN, "") when it is not in the table."""
    return CODES.get(raw, (S.UNKNOWN, ""))
