"""Stripe's objects as plain JSON: request parameters out, intents, refunds and events in (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from backend.domain.statuses import PaymentStatus, RefundStatus
from backend.integrations.payments.base import (
    CheckoutRequest,
    PaymentEvent,
    ProviderPayment,
    RefundResult,
)
from backend.integrations.payments.stripe.codes import (
    INTENT_STATUS,
    PAYMENT_EVENT_STATUS,
    REFUND_EVENTS,
    REFUND_STATUS,
)

_CURRENCY = re.compile(r"[A-Za-z]{3}")
MAX_METADATA_VALUE = 500  # Stripe's limit per metadata value
MAX_TEXT = 200  # no id or code we keep is longer; it bounds what an event can make us store


class Unreadable(ValueError):
    """A Stripe object without the fields we need: the adapter turns it into our error."""


# --- out ---------------------------------------------------------------------------------


def checkout_params(request: CheckoutRequest) -> dict[str, Any]:
    """The PaymentIntent to create: card only, captured automatically, our ids in metadata."""
    if type(request.amount_minor) is not int or request.amount_minor <= 0:
        raise ValueError("the amount must be a positive number of minor units")
    if not _CURRENCY.fullmatch(request.currency):
        raise ValueError("the currency must be a three-letter ISO code")
    for name in ("payment_id", "order_reference"):
        if len(getattr(request, name)) > MAX_METADATA_VALUE:
            raise ValueError(f"{name} is longer than Stripe keeps in metadata")
    return {
        "amount": request.amount_minor,
        "currency": request.currency.lower(),
        "payment_method_types": ["card"],
        "description": request.description[:1000],
        "metadata": {
            "payment_id": request.payment_id,
            "order_reference": request.order_reference,
        },
    }


def refund_params(provider_reference: str, amount_minor: int, refund_id: str) -> dict[str, Any]:
    if type(amount_minor) is not int or amount_minor <= 0:
        raise ValueError("a refund must be a positive number of minor units")
    if not provider_reference.startswith("pi_"):
        raise ValueError("a Stripe payment reference is a PaymentIntent id (pi_...)")
    if len(refund_id) > MAX_METADATA_VALUE:
        raise ValueError("refund_id is longer than Stripe keeps in metadata")
    return {
        "payment_intent": provider_reference,
        "amount": amount_minor,
        "metadata": {"refund_id": refund_id},
    }


# --- in ----------------------------------------------------------------------------------


def _text(obj: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > MAX_TEXT:
        raise Unreadable(f"{key} is missing or not a short string")
    return value


def _amount(obj: Mapping[str, Any], key: str = "amount") -> int:
    value = obj.get(key)
    if type(value) is not int or value < 0:
        raise Unreadable(f"{key} is missing or not a whole number")
    return value


def _metadata(obj: Mapping[str, Any], key: str) -> str:
    metadata = obj.get("metadata") or {}
    value = metadata.get(key, "") if isinstance(metadata, Mapping) else ""
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _reference(value: Any) -> str:
    """An id that the API may send bare ("pi_...") or expanded ({"id": "pi_...", ...})."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _error_text(error: Any) -> str:
    if not isinstance(error, Mapping):
        return ""
    parts = [error.get("code"), error.get("decline_code"), error.get("message")]
    return ": ".join(p for p in parts if isinstance(p, str) and p)[:MAX_TEXT]


def _moment(created: Any) -> datetime | None:
    if type(created) is not int:
        return None
    try:
        return datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise Unreadable("created is not a time") from None


def intent_status(intent: Mapping[str, Any]) -> PaymentStatus:
    raw = _text(intent, "status")
    if raw not in INTENT_STATUS:
        raise Unreadable(f"unknown PaymentIntent status {raw!r}")
    if raw == "requires_payment_method" and intent.get("last_payment_error"):
        return PaymentStatus.FAILED  # declined; the customer may still try another card
    return INTENT_STATUS[raw]


def read_refund(refund: Mapping[str, Any]) -> RefundResult:
    raw = _text(refund, "status")
    # A status Stripe adds later is not settled money: pending, re-read later, never "succeeded".
    return RefundResult(
        refund_reference=_text(refund, "id"),
        status=REFUND_STATUS.get(raw, RefundStatus.PENDING),
        amount_minor=_amount(refund),
        merchant_reference=_metadata(refund, "refund_id"),
    )


def read_payment(intent: Mapping[str, Any], refunds: list[Mapping[str, Any]]) -> ProviderPayment:
    return ProviderPayment(
        provider_reference=_text(intent, "id"),
        status=intent_status(intent),
        amount_minor=_amount(intent),
        currency=_text(intent, "currency").upper(),
        refunds=[read_refund(refund) for refund in refunds],
    )


def read_event(event: Mapping[str, Any]) -> PaymentEvent:
    """One verified event in our words; a type we do not map comes back with no status."""
    if event.get("object") != "event":
        raise Unreadable("not a Stripe event")
    event_id, event_type = _text(event, "id"), _text(event, "type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        raise Unreadable("the event has no data.object")
    occurred_at = _moment(event.get("created"))
    base = {"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at}
    kind = obj.get("object")

    if kind == "payment_intent":
        return PaymentEvent(
            **base,
            provider_reference=_text(obj, "id"),
            merchant_reference=_metadata(obj, "payment_id"),
            payment_status=PAYMENT_EVENT_STATUS.get(event_type),
            amount_minor=_amount(obj),
            currency=_text(obj, "currency").upper(),
            failure_reason=_error_text(obj.get("last_payment_error")),
        )
    if kind == "refund" and event_type in REFUND_EVENTS:
        status = REFUND_STATUS.get(_text(obj, "status"))
        if event_type == "refund.failed":
            status = RefundStatus.FAILED
        return PaymentEvent(
            **base,
            provider_reference=_reference(obj.get("payment_intent")),
            merchant_reference=_metadata(obj, "refund_id"),
            refund_status=status,
            refund_reference=_text(obj, "id"),
            amount_minor=_amount(obj),
            currency=_text(obj, "currency").upper(),
            failure_reason=_text(obj, "failure_reason", required=False),
        )
    # Anything else (charge.refunded, charge.succeeded, ...) is recorded and ignored: the
    # refund.* events carry each refund, and the intent's events carry the payment.
    reference = _reference(obj.get("payment_intent")) or _reference(obj.get("id"))
    return PaymentEvent(**base, provider_reference=reference)
