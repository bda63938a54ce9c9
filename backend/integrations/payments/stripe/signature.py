"""Stripe-Signature: HMAC-SHA256 of "<t>.<raw body>" under the endpoint's secret, t within 300 s.

Our own check rather than the SDK's `WebhookSignature.verify_header`, because that one
reads the clock itself and a replay from the inbox must be judged at its arrival time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

from backend.integrations.payments.base import WebhookRejected

TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
MAX_HEADER = 4096


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_header(value: str) -> tuple[int, list[str]]:
    """(t, [v1 signatures]) from "t=...,v1=...,v1=...,v0=..."; other schemes are ignored."""
    if not value or len(value) > MAX_HEADER:
        raise WebhookRejected("missing or oversized Stripe-Signature header")
    timestamps, signatures = [], []
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise WebhookRejected("garbled Stripe-Signature header")
        if key == "t":
            timestamps.append(val)
        elif key == "v1":
            signatures.append(val)
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookRejected("the Stripe-Signature header needs exactly one numeric t")
    if not signatures:
        raise WebhookRejected("no v1 signature in the Stripe-Signature header")
    return int(timestamps[0]), signatures


def verify(header_value: str, body: bytes, secret: str, now: datetime) -> None:
    """Raise WebhookRejected unless one v1 signature matches these bytes and t is near `now`."""
    if not secret:
        raise WebhookRejected("no Stripe webhook secret configured")  # an empty key proves nothing
    timestamp, signatures = parse_header(header_value)
    expected = expected_signature(secret, timestamp, body).encode()
    # Stripe sends several v1 values while an endpoint's secret is being rolled: any may match.
    if not any(
        _HEX_SIGNATURE.fullmatch(s) and hmac.compare_digest(expected, s.encode())
        for s in signatures
    ):
        raise WebhookRejected("no Stripe signature matches the body")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # our naive times are UTC
    # Checked both ways: a replayed old webhook fails, and so does one dated ahead of us.
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise WebhookRejected("the Stripe-Signature timestamp is outside the 300 s tolerance")
