"""The carrier adapter interface: declared capabilities, batch tracking, push parsing, quotes, bookings.

Adapters speak in domain types, take the account's credentials and an httpx client
on every call, and never touch the database. Errors:

    CarrierError
    ├── CarrierUnavailable   timeout, connection error or 5xx: try later (counts for the breaker)
    ├── CarrierRateLimited   429; retry_after is the carrier's Retry-After in seconds
    ├── CarrierRejected      any other 4xx, or a response we cannot read: our request is wrong
    └── PushRejected         a pushed webhook with a bad signature, stale timestamp or body
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from backend.domain.statuses import ShipmentStatus


class CarrierError(Exception):
    """Base of every error an adapter raises on purpose."""


class CarrierUnavailable(CarrierError):
    pass


class CarrierRateLimited(CarrierError):
    def __init__(self, retry_after: float):
        super().__init__(f"rate limited by the carrier; retry after {retry_after:g}s")
        self.retry_after = retry_after


class CarrierRejected(CarrierError):
    pass


class PushRejected(CarrierError):
    pass


@dataclass(frozen=True)
class Credentials:
    """One carrier account's settings; secrets come decrypted from tenant_secret, per call."""

    base_url: str
    api_key: str = ""
    webhook_secret: str = ""


@dataclass(frozen=True)
class Capabilities:
    polls: bool  # answers batch tracking requests
    batch_size: int  # most numbers in one tracking request (0 when it does not poll)
    pushes: bool  # sends signed webhooks
    can_resend: bool  # can be asked to push again what it pushed since a time
    needs_subscription: bool  # pushes only for numbers we subscribed
    quotes: bool
    books: bool


@dataclass(frozen=True)
class CarrierEvent:
    """One thing the carrier said about one parcel, already mapped to our vocabulary."""

    tracking_number: str
    event_id: str  # the carrier's id, or a stable digest of the raw event: the dedupe key
    occurred_at: datetime  # aware, UTC
    raw_code: str
    status: ShipmentStatus  # UNKNOWN when raw_code is not in the carrier's table
    reason: str = ""
    description: str = ""
    city: str = ""
    country: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrackResult:
    """The answer for one number of a batch: its events, or why there are none."""

    tracking_number: str
    events: list[CarrierEvent] = field(default_factory=list)
    error: str = ""  # e.g. "not_found": one bad number never fails the batch


@dataclass(frozen=True)
class ParcelSpec:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class Quote:
    service_level: str
    amount_minor: int
    currency: str
    transit_days: int


@dataclass(frozen=True)
class Booking:
    carrier_reference: str
    tracking_number: str
    estimated_delivery: date | None = None


class CarrierAdapter(Protocol):
    slug: str
    capabilities: Capabilities

    def track(
        self, numbers: list[str], creds: Credentials, client: httpx.Client
    ) -> list[TrackResult]:
        """One request for up to capabilities.batch_size numbers; per-number results."""
        ...

    def parse_push(
        self, headers: Mapping[str, str], body: bytes, creds: Credentials, now: datetime
    ) -> list[CarrierEvent]:
        """Verify a pushed webhook over its raw bytes, then read it; raise PushRejected."""
        ...

    def request_resend(self, since: datetime, creds: Credentials, client: httpx.Client) -> int:
        """Ask the carrier to push again everything since `since`; returns how many it will send."""
        ...

    def subscribe(
        self, tracking_number: str, callback_url: str, creds: Credentials, client: httpx.Client
    ) -> None:
        """Ask a push carrier to send updates for this number to callback_url."""
        ...

    def quote(
        self,
        parcel: ParcelSpec,
        origin: str,
        destination: str,
        creds: Credentials,
        client: httpx.Client,
    ) -> list[Quote]: ...

    def book(
        self,
        parcel: ParcelSpec,
        sender: Mapping[str, str],
        recipient: Mapping[str, str],
        service_level: str,
        creds: Credentials,
        client: httpx.Client,
    ) -> Booking: ...


def raise_for_status(response: httpx.Response) -> None:
    """Turn a carrier's HTTP status into our error tree (shared by every adapter)."""
    if response.status_code == 429:
        raise CarrierRateLimited(retry_after_seconds(response.headers.get("Retry-After", "")))
    if response.status_code >= 500:
        raise CarrierUnavailable(f"carrier answered {response.status_code}")
    if response.status_code >= 400:
        raise CarrierRejected(f"carrier refused the request: {response.status_code}")


MAX_RETRY_AFTER_SECONDS = 3600.0


def retry_after_seconds(value: str) -> float:
    """Seconds from a Retry-After header (delay or HTTP date); 1 s when it says nothing usable."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError):
            return 1.0
    # "inf" or "nan" parse as floats; either would block an account forever or poison a bucket.
    if not math.isfinite(seconds):
        return 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


# Every call carries its own limits, whatever the caller's client was built with, so one
# hanging or flooding carrier never holds a worker for long.
CALL_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
CALL_DEADLINE_SECONDS = 30.0  # the whole answer, against a carrier that drips it slowly
MAX_ANSWER_BYTES = 4 * 1024 * 1024


def endpoint(creds: Credentials, path: str) -> str:
    """The account's base URL joined with `path`; only http(s) is ever called."""
    base = creds.base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise CarrierRejected("the account's base_url must be an http(s) URL")
    return base + path


def send(client: httpx.Client, method: str, url: str, **request: Any) -> bytes:
    """One call to a carrier: its body on any 2xx, otherwise an error of the tree above.

    Redirects are never followed (they would carry the API key elsewhere); the body is
    read up to MAX_ANSWER_BYTES and within CALL_DEADLINE_SECONDS.
    """
    deadline = time.monotonic() + CALL_DEADLINE_SECONDS
    try:
        built = client.build_request(method, url, timeout=CALL_TIMEOUT, **request)
        response = client.send(built, stream=True, follow_redirects=False)
        try:
            raise_for_status(response)
            if not response.is_success:
                raise CarrierRejected(f"carrier answered {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise CarrierRejected("carrier's answer is too large")
                if time.monotonic() > deadline:
                    raise CarrierUnavailable("carrier timed out while sending its answer")
                chunks.append(chunk)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        # "timed out" in the message: the sync engine counts these apart from other failures.
        raise CarrierUnavailable(f"carrier timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise CarrierUnavailable(f"carrier unreachable ({type(exc).__name__})") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # e.g. a body that does not decode
        raise CarrierRejected(f"carrier call failed ({type(exc).__name__})") from exc
    return b"".join(chunks)
