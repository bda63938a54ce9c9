"""Harbour Post's adapter: pure JSON request builders and answer readers, and a thin HTTP part.

Per-number errors in a batch (TrackResult.error): "not_found" (the carrier does not
know it), "missing" (the answer left it out), "unreadable" (its entry made no sense),
"unreadable_event" (some of its events were dropped; the readable ones are kept).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

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
from backend.integrations.carriers.harbour_post.codes import map_code

SLUG = "harbour-post"
BATCH_SIZE = 40
MAX_EVENT_ID = 100  # the dedupe key keeps 120 characters, our slug included


class _UnreadableEvent(ValueError):
    pass


# --- pure: requests -------------------------------------------------------------------


def build_track_request(numbers: list[str]) -> dict[str, Any]:
    """The body of POST /v1/track; the carrier takes 1 to 40 numbers."""
    if not numbers:
        raise ValueError("no numbers to track")
    if len(numbers) > BATCH_SIZE:
        raise ValueError(f"{SLUG} tracks at most {BATCH_SIZE} numbers a call, got {len(numbers)}")
    return {"numbers": list(dict.fromkeys(numbers))}


def _parcel(parcel: ParcelSpec) -> dict[str, int]:
    return {
        "weight_grams": parcel.weight_grams,
        "length_mm": parcel.length_mm,
        "width_mm": parcel.width_mm,
        "height_mm": parcel.height_mm,
    }


def build_quote_request(parcel: ParcelSpec, origin: str, destination: str) -> dict[str, Any]:
    return {**_parcel(parcel), "origin": origin, "destination": destination}


def build_booking_request(
    parcel: ParcelSpec,
    sender: Mapping[str, str],
    recipient: Mapping[str, str],
    service_level: str,
) -> dict[str, Any]:
    return {
        "parcel": _parcel(parcel),
        "sender": dict(sender),
        "recipient": dict(recipient),
        "service_level": service_level,
    }


# --- pure: answers --------------------------------------------------------------------


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CarrierRejected(f"{SLUG} answered something that is not JSON") from exc
    if not isinstance(document, dict):
        raise CarrierRejected(f"{SLUG} answered JSON that is not an object")
    return document


def _text(value: object) -> str:
    """A usable string field, or "" (PostgreSQL refuses NUL characters in text and JSONB)."""
    return value if isinstance(value, str) and "\x00" not in value else ""


def _key(number: str) -> str:
    return number.strip().upper()


def parse_event(number: str, raw: object) -> CarrierEvent:
    """One event of one number; raises _UnreadableEvent when it cannot be trusted."""
    if not isinstance(raw, dict):
        raise _UnreadableEvent("event is not an object")
    event_id, code, time = _text(raw.get("id")), _text(raw.get("code")), _text(raw.get("time"))
    if not event_id or len(event_id) > MAX_EVENT_ID or not code or not time:
        raise _UnreadableEvent("event lacks id, code or time")
    if "\\u0000" in json.dumps(raw):
        raise _UnreadableEvent("event holds a NUL character")
    try:
        occurred = datetime.fromisoformat(time)
    except ValueError as exc:
        raise _UnreadableEvent("event time is not ISO 8601") from exc
    if occurred.tzinfo is None:
        raise _UnreadableEvent("event time has no offset")  # documented as UTC with Z
    location = raw.get("location")
    location = location if isinstance(location, dict) else {}
    status, reason = map_code(code)
    return CarrierEvent(
        tracking_number=number,
        event_id=event_id,
        occurred_at=occurred.astimezone(UTC),
        raw_code=code,
        status=status,
        reason=reason,
        description=_text(raw.get("description")),
        city=_text(location.get("city")),
        country=_text(location.get("country")),
        raw=dict(raw),
    )


def _result(number: str, item: dict[str, Any]) -> TrackResult:
    if item.get("found") is False:
        return TrackResult(number, error="not_found")
    if item.get("found") is not True or not isinstance(item.get("events"), list):
        return TrackResult(number, error="unreadable")
    events, dropped = [], 0
    for raw in item["events"]:
        try:
            events.append(parse_event(number, raw))
        except _UnreadableEvent:
            dropped += 1
    return TrackResult(number, events, error="unreadable_event" if dropped else "")


def parse_track_response(body: bytes, numbers: list[str]) -> list[TrackResult]:
    """One result per distinct number asked for, in the order asked; events keep our spelling."""
    results = _document(body).get("results")
    if not isinstance(results, list):
        raise CarrierRejected(f"{SLUG} answer has no results list")
    wanted = {_key(n): n for n in dict.fromkeys(numbers)}
    answered: dict[str, TrackResult] = {}
    for item in results:
        if not isinstance(item, dict) or not _text(item.get("number")):
            continue  # cannot tell whose entry it is
        number = wanted.get(_key(item["number"]))
        if number is None or number in answered:
            continue  # a number we did not ask for, or said twice: never applied
        answered[number] = _result(number, item)
    return [answered.get(n) or TrackResult(n, error="missing") for n in wanted.values()]


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CarrierRejected(f"{SLUG} quote holds a bad number: {value!r}")
    return value


def parse_quotes(body: bytes) -> list[Quote]:
    quotes = _document(body).get("quotes")
    if not isinstance(quotes, list):
        raise CarrierRejected(f"{SLUG} answer has no quotes list")
    parsed = []
    for item in quotes:
        if not isinstance(item, dict):
            raise CarrierRejected(f"{SLUG} quote is not an object")
        level, currency = _text(item.get("service_level")), _text(item.get("currency"))
        if not level or not (len(currency) == 3 and currency.isascii() and currency.isupper()):
            raise CarrierRejected(f"{SLUG} quote lacks a service level or currency")
        parsed.append(
            Quote(
                level, _count(item.get("amount_minor")), currency, _count(item.get("transit_days"))
            )
        )
    return parsed


def parse_booking(body: bytes) -> Booking:
    document = _document(body)
    reference, number = _text(document.get("reference")), _text(document.get("tracking_number"))
    if not reference or not number:
        # The carrier may have booked all the same: say so, for whoever reads the error.
        raise CarrierRejected(f"{SLUG} booking answer lacks reference or tracking_number")
    estimated = None
    if isinstance(document.get("estimated_delivery"), str):
        try:
            estimated = date.fromisoformat(document["estimated_delivery"])
        except ValueError:
            estimated = None  # an unreadable estimate must not lose a booking that happened
    return Booking(reference, number, estimated)


# --- the thin HTTP part ---------------------------------------------------------------


def _headers(creds: Credentials) -> dict[str, str]:
    return {"X-Api-Key": creds.api_key, "Accept": "application/json"}


class HarbourPostAdapter:
    """Harbour Post: polls in batches of 40, quotes and books; it never pushes."""

    slug = SLUG
    capabilities = Capabilities(
        polls=True,
        batch_size=BATCH_SIZE,
        pushes=False,
        can_resend=False,
        needs_subscription=False,
        quotes=True,
        books=True,
    )

    def track(
        self, numbers: list[str], creds: Credentials, client: httpx.Client
    ) -> list[TrackResult]:
        if not numbers:
            return []
        payload = build_track_request(numbers)
        url = endpoint(creds, "/v1/track")
        body = send(client, "POST", url, json=payload, headers=_headers(creds))
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
        payload = build_quote_request(parcel, origin, destination)
        url = endpoint(creds, "/v1/quotes")
        return parse_quotes(send(client, "POST", url, json=payload, headers=_headers(creds)))

    def book(
        self,
        parcel: ParcelSpec,
        sender: Mapping[str, str],
        recipient: Mapping[str, str],
        service_level: str,
        creds: Credentials,
        client: httpx.Client,
    ) -> Booking:
        payload = build_booking_request(parcel, sender, recipient, service_level)
        url = endpoint(creds, "/v1/bookings")
        return parse_booking(send(client, "POST", url, json=payload, headers=_headers(creds)))
