"""SwiftLink's adapter: signed pushes checked over their raw bytes, subscriptions and resends.

A push is believed only when `X-SwiftLink-Signature: v1=<hex>` is the HMAC-SHA256 of
"<X-SwiftLink-Timestamp>.<raw body>" under the account's webhook secret and the
timestamp is within 300 s of now, either way. The body is read only after that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
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
from backend.integrations.carriers.swiftlink.codes import map_code

SLUG = "swiftlink"
TOLERANCE_SECONDS = 300
MAX_PUSH_BYTES = 64 * 1024
MAX_FIELD = 200  # no field of a push is longer; ids stay inside our 120-character dedupe key
TIMESTAMP_HEADER = "x-swiftlink-timestamp"
SIGNATURE_HEADER = "x-swiftlink-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v1=([0-9a-fA-F]{64})")


# --- pure -----------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds, as text)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str:
    """One header, whatever its case; a header sent twice with different values is refused."""
    values = {v for k, v in headers.items() if k.lower() == name}
    if not values:
        raise PushRejected(f"missing {name} header")
    if len(values) > 1:
        raise PushRejected(f"conflicting {name} headers")
    return values.pop().strip()


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
    """Raise PushRejected unless the push is fresh and signed with `secret` over these bytes."""
    if not secret:
        raise PushRejected("no webhook secret configured")  # an empty key proves nothing
    if len(body) > MAX_PUSH_BYTES:
        raise PushRejected("body too large")
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise PushRejected("garbled timestamp")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # our naive times are UTC
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise PushRejected("stale or future timestamp")
    signature = _SIGNATURE.fullmatch(_header(headers, SIGNATURE_HEADER))
    if signature is None:
        raise PushRejected("garbled signature")
    expected = sign(secret, timestamp, body).removeprefix("v1=")
    if not hmac.compare_digest(expected, signature.group(1).lower()):
        raise PushRejected("bad signature")


def _field(document: dict[str, Any], name: str, *, required: bool) -> str:
    value = document.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_FIELD:
        raise PushRejected(f"bad {name}")
    if required and not value.strip():
        raise PushRejected(f"empty {name}")
    return value


def read_event(body: bytes) -> CarrierEvent:
    """The event of an already verified push body."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PushRejected("body is not JSON") from exc
    if not isinstance(document, dict):
        raise PushRejected("body is not a JSON object")
    if b"\\u0000" in body:
        raise PushRejected("body holds a NUL character")  # PostgreSQL cannot store it
    event_id = _field(document, "event_id", required=True)
    number = _field(document, "tracking_number", required=True)
    code = _field(document, "code", required=True)
    try:
        occurred = datetime.fromisoformat(_field(document, "occurred_at", required=True))
    except ValueError as exc:
        raise PushRejected("occurred_at is not ISO 8601") from exc
    if occurred.tzinfo is None:
        raise PushRejected("occurred_at has no offset")
    status, reason = map_code(code)
    return CarrierEvent(
        tracking_number=number,
        event_id=event_id,
        occurred_at=occurred.astimezone(UTC),
        raw_code=code,
        status=status,
        reason=reason,
        city=_field(document, "city", required=False),
        country=_field(document, "country", required=False),
        raw=document,
    )


def build_subscription(tracking_number: str, callback_url: str) -> dict[str, str]:
    return {"tracking_number": tracking_number, "callback_url": callback_url}


def build_resend(since: datetime) -> dict[str, str]:
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return {"since": since.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def parse_resend(body: bytes) -> int:
    try:
        queued = json.loads(body).get("queued")
    except (UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise CarrierRejected(f"{SLUG} resend answer is unreadable") from exc
    if isinstance(queued, bool) or not isinstance(queued, int) or queued < 0:
        raise CarrierRejected(f"{SLUG} resend answer has no count")
    return queued


# --- the thin HTTP part ---------------------------------------------------------------


def _headers(creds: Credentials) -> dict[str, str]:
    return {"X-Api-Key": creds.api_key, "Accept": "application/json"}


class SwiftLinkAdapter:
    """SwiftLink: never polled; pushes signed webhooks for subscribed numbers and resends them."""

    slug = SLUG
    capabilities = Capabilities(
        polls=False,
        batch_size=0,
        pushes=True,
        can_resend=True,
        needs_subscription=True,
        quotes=False,
        books=False,
    )

    def track(
        self, numbers: list[str], creds: Credentials, client: httpx.Client
    ) -> list[TrackResult]:
        raise CarrierRejected(f"{SLUG} does not answer polls")

    def parse_push(
        self, headers: Mapping[str, str], body: bytes, creds: Credentials, now: datetime
    ) -> list[CarrierEvent]:
        verify(headers, body, creds.webhook_secret, now)
        return [read_event(body)]

    def request_resend(self, since: datetime, creds: Credentials, client: httpx.Client) -> int:
        url = endpoint(creds, "/v1/resend")
        body = send(client, "POST", url, json=build_resend(since), headers=_headers(creds))
        return parse_resend(body)

    def subscribe(
        self, tracking_number: str, callback_url: str, creds: Credentials, client: httpx.Client
    ) -> None:
        payload = build_subscription(tracking_number, callback_url)
        send(
            client,
            "POST",
            endpoint(creds, "/v1/subscriptions"),
            json=payload,
            headers=_headers(creds),
        )

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
