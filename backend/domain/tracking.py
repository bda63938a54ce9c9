"""What a tracking result means to a customer: reasons, the next step they can take, local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from backend.domain import tracking_number
from backend.domain.statuses import ShipmentStatus

MAX_NUMBERS_PER_LOOKUP = 20
MAX_NUMBER_LENGTH = 40
_SEPARATORS = re.compile(r"[\s,;]+")


class Reason(StrEnum):
    """Why a parcel stopped or went wrong; carriers' raw codes map onto these."""

    RECIPIENT_ABSENT = "recipient_absent"
    BAD_ADDRESS = "bad_address"
    CUSTOMS_DOCUMENTS = "customs_documents"
    CUSTOMS_DUTY = "customs_duty"
    DAMAGED = "damaged"
    LOST = "lost"
    WEATHER = "weather"
    REFUSED = "refused"
    HELD_AT_DEPOT = "held_at_depot"


class NextStep(StrEnum):
    """What the customer can do now; the page words each one in both languages."""

    RESCHEDULE = "reschedule"
    COLLECT_AT_LOCKER = "collect_at_locker"
    PROVIDE_CUSTOMS_DOCUMENTS = "provide_customs_documents"
    PAY_CUSTOMS_DUTY = "pay_customs_duty"
    UPDATE_ADDRESS = "update_address"
    CONTACT_SUPPORT = "contact_support"
    CONTACT_SENDER = "contact_sender"
    WAIT = "wait"


_BY_REASON = {
    Reason.RECIPIENT_ABSENT: NextStep.RESCHEDULE,
    Reason.BAD_ADDRESS: NextStep.UPDATE_ADDRESS,
    Reason.CUSTOMS_DOCUMENTS: NextStep.PROVIDE_CUSTOMS_DOCUMENTS,
    Reason.CUSTOMS_DUTY: NextStep.PAY_CUSTOMS_DUTY,
    Reason.DAMAGED: NextStep.CONTACT_SUPPORT,
    Reason.LOST: NextStep.CONTACT_SUPPORT,
    Reason.REFUSED: NextStep.CONTACT_SENDER,
    Reason.HELD_AT_DEPOT: NextStep.COLLECT_AT_LOCKER,
    Reason.WEATHER: NextStep.WAIT,
}
_BY_STATUS = {
    ShipmentStatus.READY_FOR_PICKUP: NextStep.COLLECT_AT_LOCKER,
    ShipmentStatus.DELIVERY_FAILED: NextStep.RESCHEDULE,
    ShipmentStatus.EXCEPTION: NextStep.CONTACT_SUPPORT,
    ShipmentStatus.RETURNING: NextStep.CONTACT_SENDER,
    ShipmentStatus.UNKNOWN: NextStep.CONTACT_SUPPORT,
}
# Statuses where the customer may have to act; elsewhere a reason is informative only.
_ACTIONABLE = {
    ShipmentStatus.CUSTOMS,
    ShipmentStatus.READY_FOR_PICKUP,
    ShipmentStatus.DELIVERY_FAILED,
    ShipmentStatus.EXCEPTION,
    ShipmentStatus.RETURNING,
    ShipmentStatus.UNKNOWN,
}


def next_step(status: str, reason: str = "") -> NextStep | None:
    """The action to offer for a shipment in `status` because of `reason`; None when none is needed."""
    try:
        current = ShipmentStatus(status)
    except ValueError:
        return None
    if current not in _ACTIONABLE:
        return None
    if current is ShipmentStatus.READY_FOR_PICKUP:
        # The parcel waits at a locker or store whatever brought it there (often an absent
        # recipient): collecting it is the step, not rescheduling a delivery.
        return NextStep.COLLECT_AT_LOCKER
    try:
        by_reason = _BY_REASON.get(Reason(reason)) if reason else None
    except ValueError:
        by_reason = None
    return by_reason or _BY_STATUS.get(current)


class NumberKind(StrEnum):
    OURS = "ours"  # a valid S10 number: ours to look up
    MALFORMED = "malformed"  # S10 layout with a bad check digit, or no known layout at all
    PARTNER = "partner"  # another layout that a partner carrier claims


@dataclass(frozen=True)
class ParsedNumber:
    raw: str
    number: str
    kind: NumberKind


def classify(raw: str, partner_patterns: list[re.Pattern[str]] | None = None) -> ParsedNumber:
    """Ours (valid S10), a partner's (a layout a carrier claims) or malformed; `number` is normalized."""
    number = tracking_number.normalize(raw)
    # Over-long input is malformed, not cut down to something that might match; and only
    # printable ASCII gets near a pattern (Python's \d also matches other scripts' digits).
    if len(number) > MAX_NUMBER_LENGTH or not (number.isascii() and number.isprintable()):
        return ParsedNumber(raw, number[:MAX_NUMBER_LENGTH], NumberKind.MALFORMED)
    check = tracking_number.check(number)
    if check is tracking_number.NumberCheck.VALID:
        return ParsedNumber(raw, number, NumberKind.OURS)
    if check is tracking_number.NumberCheck.NOT_S10 and any(
        p.fullmatch(number) for p in partner_patterns or []
    ):
        return ParsedNumber(raw, number, NumberKind.PARTNER)
    return ParsedNumber(raw, number, NumberKind.MALFORMED)


def split_numbers(text: str) -> list[str]:
    """Numbers pasted as one text, separated by spaces, commas or new lines; duplicates once."""
    seen: dict[str, None] = {}
    for piece in _SEPARATORS.split(text.strip()):
        if piece:
            seen.setdefault(piece.upper(), None)
    return list(seen)


_ZONES = {
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "CN": "Asia/Shanghai",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "GB": "Europe/London",
    "US": "America/New_York",
}


def local_time(moment: datetime, country: str) -> datetime:
    """`moment` on the clock of the place it happened (Hong Kong time when the country is unknown)."""
    if moment.tzinfo is None:
        # A naive time here is UTC (as stored); astimezone() would take it as this server's time.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(_ZONES.get(country.upper(), "Asia/Hong_Kong")))
