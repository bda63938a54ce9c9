"""PayPal webhook events (already verified bytes) -> our PaymentEvent, one per notification."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from backend.domain.statuses import PaymentStatus
from backend.integrations.payments.base import PaymentEvent, WebhookRejected
from backend.integrations.payments.paypal import codes, wire

MAX_FIELD = 200
_ORDER_LINK = re.compile(r"/v2/checkout/orders/([A-Z0-9]{1,36})$")
_CAPTURE_LINK = re.compile(r"/v2/payments/captures/([A-Z0-9]{1,36})$")


def _text(document: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = document.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > MAX_FIELD or (required and not value.strip()):
        raise WebhookRejected(f"bad {name} in the event")
    return value


def _amount(resource: dict[str, Any]) -> tuple[int | None, str]:
    amount = resource.get("amount")
    if amount is None:
        return None, ""
    if not isinstance(amount, dict):
        raise WebhookRejected("bad amount in the event")
    try:
        currency = amount.get("currency_code")
        return wire.to_minor(amount.get("value"), currency), currency
    except ValueError as exc:
        raise WebhookRejected(f"bad amount in the event: {exc}") from exc


def _up(resource: dict[str, Any], pattern: re.Pattern[str]) -> str:
    match = pattern.search(wire.link(resource, "up"))
    return match.group(1) if match else ""


def _related_order(resource: dict[str, Any]) -> str:
    """The order a capture (or refund) belongs to: supplementary_data, else its "up" link."""
    supplementary = resource.get("supplementary_data")
    related = supplementary.get("related_ids") if isinstance(supplementary, dict) else None
    if isinstance(related, dict) and related.get("order_id"):
        return _text(related, "order_id")
    return _up(resource, _ORDER_LINK)


def _occurred(document: dict[str, Any]) -> datetime | None:
    text = _text(document, "create_time")
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise WebhookRejected("create_time is not RFC 3339") from exc


def load(body: bytes) -> dict[str, Any]:
    """The JSON object of a webhook body; anything else is WebhookRejected."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WebhookRejected("the body is not UTF-8 JSON") from exc
    if not isinstance(document, dict):
        raise WebhookRejected("the body is not a JSON object")
    if b"\\u0000" in body:
        raise WebhookRejected("the body holds a NUL character")  # PostgreSQL cannot store it
    return document


def _unmapped(document: dict[str, Any], event_id: str, event_type: str) -> PaymentEvent:
    """An event we do not apply: its ids as far as they read, never a rejection (PayPal would retry)."""
    resource = document.get("resource")
    resource_id = resource.get("id") if isinstance(resource, dict) else None
    try:
        occurred = _occurred(document)
    except WebhookRejected:
        occurred = None
    return PaymentEvent(
        event_id=event_id,
        event_type=event_type,
        provider_reference=resource_id
        if isinstance(resource_id, str) and len(resource_id) <= MAX_FIELD
        else "",
        occurred_at=occurred,
    )


def parse(body: bytes) -> PaymentEvent:
    """Read one verified notification. An event type we do not map keeps both statuses None."""
    document = load(body)
    event_id = _text(document, "id", required=True)
    event_type = _text(document, "event_type", required=True)
    status = codes.PAYMENT_EVENTS.get(event_type)
    refund_status = codes.REFUND_EVENTS.get(event_type)
    if status is None and refund_status is None:
        return _unmapped(document, event_id, event_type)
    resource = document.get("resource")
    if not isinstance(resource, dict):
        raise WebhookRejected("the event has no resource")
    kind = _text(document, "resource_type")
    resource_id = _text(resource, "id", required=True)
    amount_minor, currency = _amount(resource)
    common = {
        "event_id": event_id,
        "event_type": event_type,
        "amount_minor": amount_minor,
        "currency": currency,
        "occurred_at": _occurred(document),
    }
    if refund_status is not None:
        # A refund carries no order id: name the payment by its capture (the "up" link).
        return PaymentEvent(
            **common,
            provider_reference=_related_order(resource) or _up(resource, _CAPTURE_LINK),
            merchant_reference=_text(resource, "invoice_id") or _text(resource, "custom_id"),
            refund_status=refund_status,
            refund_reference=resource_id,
        )
    if kind == "checkout-order":
        unit = resource.get("purchase_units")
        first = unit[0] if isinstance(unit, list) and unit and isinstance(unit[0], dict) else {}
        amount_minor, currency = _amount(first)
        return PaymentEvent(
            **{**common, "amount_minor": amount_minor, "currency": currency},
            provider_reference=resource_id,
            merchant_reference=_text(first, "custom_id") or _text(first, "reference_id"),
            payment_status=status,
        )
    if kind == "capture":
        details = resource.get("status_details")
        reason = _text(details, "reason") if isinstance(details, dict) else ""
        return PaymentEvent(
            **common,
            provider_reference=_related_order(resource) or resource_id,
            merchant_reference=_text(resource, "custom_id"),
            payment_status=status,
            failure_reason=reason if status is PaymentStatus.FAILED else "",
        )
    raise WebhookRejected(f"{event_type} about a {kind or 'missing'} resource")
