"""Checkout.com's webhooks: `Cko-Signature` is the hex HMAC-SHA256 of the raw body under the webhook key.

The signature has no timestamp of its own, but it covers the body and so the event's
`created_on`, which we hold to a tolerance. Checkout.com re-sends a failed webhook with the
same body up to eight times over about 30 hours (5, 10, 15, 30 minutes, 1, 4, 12, 12 hours),
so the tolerance is 72 hours: shorter would refuse its own retries. Within it, a replay is
stopped by the inbox's unique event id (`evt_...`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.domain.statuses import PaymentStatus, RefundStatus
from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    PaymentEvent,
    ProviderAccount,
    WebhookRejected,
    header,
)
from backend.integrations.payments.checkout.codes import REFUND_EVENTS, event_statuses

SIGNATURE_HEADER = "Cko-Signature"
TOLERANCE = timedelta(hours=72)
FUTURE_SKEW = timedelta(minutes=5)  # clocks disagree a little; an event from the future does not
MAX_FIELD = 200
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes) -> str:
    """The Cko-Signature value Checkout.com sends with `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    if not secret:
        raise WebhookRejected("the checkout account has no webhook secret configured")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    given = header(headers, SIGNATURE_HEADER).strip()
    if not given:
        raise WebhookRejected("missing Cko-Signature header")
    if not _SIGNATURE.fullmatch(given):
        raise WebhookRejected("garbled Cko-Signature header")
    if not hmac.compare_digest(sign(secret, body), given.lower()):
        raise WebhookRejected("bad signature")


def _text(document: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = document.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_FIELD:
        raise WebhookRejected(f"bad {name}")
    if required and not value:
        raise WebhookRejected(f"empty {name}")
    return value


def _created_on(document: Mapping[str, Any], now: datetime) -> datetime:
    try:
        created = datetime.fromisoformat(_text(document, "created_on", required=True))
    except ValueError:
        raise WebhookRejected("created_on is not ISO 8601") from None
    if created.tzinfo is None:
        raise WebhookRejected("created_on has no offset")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # our naive times are UTC
    if created < now - TOLERANCE:
        raise WebhookRejected("stale event: created_on is older than the tolerance")
    if created > now + FUTURE_SKEW:
        raise WebhookRejected("created_on is in the future")
    return created.astimezone(UTC)


def read_event(body: bytes, now: datetime) -> PaymentEvent:
    """The event of a body whose signature was already checked."""
    if b"\\u0000" in body:
        raise WebhookRejected("body holds a NUL character")  # PostgreSQL cannot store it
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookRejected("body is not UTF-8 JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise WebhookRejected("not a Checkout.com event")
    event_id = _text(document, "id", required=True)
    if not event_id.startswith("evt_"):
        raise WebhookRejected("the event id is not evt_...")
    event_type = _text(document, "type", required=True)
    occurred = _created_on(document, now)
    data = document["data"]
    amount = data.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise WebhookRejected("bad amount")
    payment_status, refund_status = event_statuses(event_type)
    summary = _text(data, "response_summary", required=False)
    failed = payment_status is PaymentStatus.FAILED or refund_status is RefundStatus.FAILED
    return PaymentEvent(
        event_id=event_id,
        event_type=event_type,
        provider_reference=_text(data, "id", required=True),  # the payment's id, pay_...
        # Our payment id on payment events; on refund events the refund's reference, our refund id.
        merchant_reference=_text(data, "reference", required=False),
        payment_status=payment_status,
        refund_status=refund_status,
        refund_reference=_text(data, "action_id", required=False)
        if event_type in REFUND_EVENTS
        else "",
        amount_minor=amount,
        currency=_text(data, "currency", required=False),
        occurred_at=occurred,
        failure_reason=summary if failed else "",
    )


def verify(
    headers: Mapping[str, str], body: bytes, account: ProviderAccount, now: datetime
) -> list[PaymentEvent]:
    check_signature(headers, body, account.secrets.get("webhook_secret", ""))
    return [read_event(body, now)]
