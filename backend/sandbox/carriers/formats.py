"""The carriers' wire formats for times and event ids (stable: a re-poll shows the same ids)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def utc_iso(at: int) -> str:
    """`2026-11-22T06:05:00Z`: Harbour Post's and SwiftLink's times."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shanghai_local(at: int) -> str:
    """`2026-11-22 14:05:00`: Pearl River's local time in Asia/Shanghai, with no offset."""
    return datetime.fromtimestamp(at, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def harbour_post_event_id(number: str, index: int) -> str:
    return "hp-" + hashlib.sha256(f"harbour-post|{number}|{index}".encode()).hexdigest()[:24]


def swiftlink_event_id(number: str, index: int) -> str:
    """`sl_` and 26 Crockford base-32 characters (a ULID's shape), from the number and step."""
    value = int.from_bytes(hashlib.sha256(f"swiftlink|{number}|{index}".encode()).digest()[:16])
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "sl_" + "".join(reversed(chars))


def parse_iso(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 time; one without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
