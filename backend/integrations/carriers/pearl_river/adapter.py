"""Pearl River's adapter: pure XML readers (DTDs and entities refused), and a thin HTTP part.

Times arrive as Asia/Shanghai wall-clock time without an offset and leave as aware UTC.
An event is (ref, seq): its id is f"{ref}:{seq}". Per-number errors: "not_found",
"missing", "unreadable", "unreadable_event" (as for Harbour Post).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from backend.integrations.carriers.base import (
    Booking,
    Capabilities,
    CarrierEvent,
    CarrierRejected,
    Credentials,
    ParcelSpec,
    PushRejected,
    Quote,
    TrackResult,
    endpoint,
    send,
)
from backend.integrations.carriers.pearl_river.codes import map_code

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

SLUG = "pearl-river"
BATCH_SIZE = 10
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_EVENT_ID = 100  # the dedupe key keeps 120 characters, our slug included


class _UnreadableEvent(ValueError):
    pass


# --- pure -----------------------------------------------------------------------------


def build_track_params(numbers: list[str]) -> list[tuple[str, str]]:
    """The query of GET /track: one `ref` per number, 1 to 10 of them."""
    if not numbers:
        raise ValueError("no numbers to track")
    if len(numbers) > BATCH_SIZE:
        raise ValueError(f"{SLUG} tracks at most {BATCH_SIZE} numbers a call, got {len(numbers)}")
    return [("ref", number) for number in dict.fromkeys(numbers)]


def shanghai_to_utc(text: str) -> datetime:
    """`2026-11-22 14:05:00` on a Shanghai clock -> the aware UTC moment; ValueError otherwise."""
    local = datetime.strptime(text.strip(), LOCAL_FORMAT)
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


def parse_xml(body: bytes) -> Element:
    """The document's root; one with a DTD, an entity or an external reference is refused."""
    try:
        return SafeElementTree.fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise CarrierRejected(f"{SLUG} answer refused: {type(exc).__name__}") from exc
    except SafeElementTree.ParseError as exc:
        raise CarrierRejected(f"{SLUG} answered something that is not XML") from exc


def parse_event(ref: str, number: str, element: Element) -> CarrierEvent:
    seq, code = element.get("seq", "").strip(), element.get("code", "").strip()
    if not seq or not code or len(ref) + len(seq) + 1 > MAX_EVENT_ID:
        raise _UnreadableEvent("event lacks seq or code")
    try:
        occurred = shanghai_to_utc(element.get("datetime", ""))
    except ValueError as exc:
        raise _UnreadableEvent("event datetime is not `YYYY-MM-DD HH:MM:SS`") from exc
    text = (element.text or "").strip()
    status, reason = map_code(code)
    return CarrierEvent(
        tracking_number=number,
        event_id=f"{ref}:{seq}",
        occurred_at=occurred,
        raw_code=code,
        status=status,
        reason=reason,
        description=text,
        city=element.get("city", ""),
        country=element.get("country", ""),
        raw={"ref": ref, **element.attrib, "text": text},
    )


def _result(ref: str, number: str, shipment: Element) -> TrackResult:
    status = shipment.get("status", "")
    if status == "NOT_FOUND":
        return TrackResult(number, error="not_found")
    if status != "OK":
        return TrackResult(number, error="unreadable")
    events, dropped = [], 0
    for element in shipment.findall("Event"):
        try:
            events.append(parse_event(ref, number, element))
        except _UnreadableEvent:
            dropped += 1
    return TrackResult(number, events, error="unreadable_event" if dropped else "")


def _key(number: str) -> str:
    return number.strip().upper()


def parse_track_response(body: bytes, numbers: list[str]) -> list[TrackResult]:
    """One result per distinct number asked for, in the order asked; events keep our spelling."""
    root = parse_xml(body)
    if root.tag != "TrackResponse":
        raise CarrierRejected(f"{SLUG} answered <{root.tag}>, not <TrackResponse>")
    wanted = {_key(n): n for n in dict.fromkeys(numbers)}
    answered: dict[str, TrackResult] = {}
    for shipment in root.findall("Shipment"):
        ref = shipment.get("ref", "").strip()
        number = wanted.get(_key(ref)) if ref else None
        if number is None or number in answered:
            continue  # a ref we did not ask for, or said twice: never applied
        answered[number] = _result(ref, number, shipment)
    return [answered.get(n) or TrackResult(n, error="missing") for n in wanted.values()]


# --- the thin HTTP part ---------------------------------------------------------------


class PearlRiverAdapter:
    """Pearl River: polls in batches of 10 over XML; no pushes, quotes or bookings."""

    slug = SLUG
    capabilities = Capabilities(
        polls=True,
        batch_size=BATCH_SIZE,
        pushes=False,
        can_resend=False,
        needs_subscription=False,
        quotes=False,
        books=False,
    )

    def track(
        self, numbers: list[str], creds: Credentials, client: httpx.Client
    ) -> list[TrackResult]:
        if not numbers:
            return []
        params = build_track_params(numbers)
        headers = {"X-Partner-Key": creds.api_key, "Accept": "application/xml"}
        body = send(client, "GET", endpoint(creds, "/track"), params=params, headers=headers)
        return parse_track_response(body, numbers)

    def parse_push(
        self, headers: Mapping[str, str], body: bytes, creds: Credentials, now: datetime
    ) -> list[CarrierEvent]:
        raise PushRejected(f"{SLUG} does not push")

    def request_resend(self, since: datetime, creds: Credentials, client: httpx.Client) -> int:
        raise CarrierRejected(f"not supported by {SLUG}")

    def subscribe(
        self, tracking_number: str, callback_url: str, creds: Credentials, client: httpx.Client
    ) -> None:
        raise CarrierRejected(f"not supported by {SLUG}")

    def quote(
        self,
        parcel: ParcelSpec,
        origin: str,
        destination: str,
        creds: Credentials,
        client: httpx.Client,
    ) -> list[Quote]:
        raise CarrierRejected(f"not supported by {SLUG}")

    def book(
        self,
        parcel: ParcelSpec,
        sender: Mapping[str, str],
        recipient: Mapping[str, str],
        service_level: str,
        creds: Credentials,
        client: httpx.Client,
    ) -> Booking:
        raise CarrierRejected(f"not supported by {SLUG}")
