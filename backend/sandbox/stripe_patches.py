"""Where localstripe differs from Stripe in ways our flow depends on, patched in place (apply()).

Each patch is small and says which behaviour of the real Stripe it restores:
- state lives in memory only (localstripe pickles its whole store to one shared
  /tmp file on every write, which two tenants' processes would clobber);
- webhooks are signed at each delivery attempt (localstripe signs the event's creation
  time) and retried with backoff until a 2xx (localstripe tries once);
- a refund checks what is left to refund, a full refund takes only what is left, and it
  sends `charge.refunded` and `refund.created` (localstripe sends no refund event);
- cancelling an intent sends `payment_intent.canceled`, a failed 3D Secure step sends
  `payment_intent.payment_failed`; intents accept a `description`;
- Stripe's decline test cards (4000 0000 0000 0002, ...) decline on charge, not only on
  attaching to a customer;
- an intent can be confirmed from the browser with the publishable key and its client
  secret and `payment_method_data` (what Stripe.js sends), and again after a decline
  (the fake Stripe.js's side of that is in stripe_js.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import re
import time
from collections import deque
from typing import Any

import aiohttp
from localstripe import resources, webhooks
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, Refund

log = logging.getLogger("waybill.sandbox.stripe")

FIRST_DELIVERY_DELAY = 0.5  # lets the API answer reach the caller before its webhook does
RETRIES = 8  # attempts at 0, b, 2b, 4b, ... (Stripe itself goes on for three days)
DELIVERY_TIMEOUT = 10.0
DELIVERIES: deque[dict[str, Any]] = deque(maxlen=500)
_delivery_ids = itertools.count(1)
_applied = False


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The Stripe-Signature header Stripe sends for `body` at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def apply(backoff_seconds: float = 1.0) -> None:
    global _applied
    if _applied:
        return
    _applied = True
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    webhooks._send_webhook = _sender(backoff_seconds)
    _patch_intents()
    _patch_refunds()
    # Real Stripe declines these test cards on any charge (generic, insufficient funds, ...).
    declined_on_charge = PaymentMethod._charging_is_declined
    PaymentMethod._charging_is_declined = lambda self: (  # type: ignore[method-assign]
        declined_on_charge(self) or self._attaching_is_declined()
    )


# --- webhooks ----------------------------------------------------------------------------


def _sender(backoff: float):
    async def send(event: Event) -> None:
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
        await asyncio.sleep(FIRST_DELIVERY_DELAY)
        for endpoint in list(webhooks._webhooks.values()):
            if endpoint.events is None or event.type in endpoint.events:
                asyncio.ensure_future(_deliver(endpoint, event, payload, backoff))

    return send


async def _deliver(endpoint, event: Event, payload: bytes, backoff: float) -> None:
    record = {"id": next(_delivery_ids), "event_id": event.id, "type": event.type}
    record.update(url=endpoint.url, attempts=[], delivered=False)
    DELIVERIES.append(record)
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for attempt in range(RETRIES):
            if attempt:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_webhook(endpoint.secret, payload, stamp),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }
            try:
                async with session.post(endpoint.url, data=payload, headers=headers) as answer:
                    status = answer.status
            except (TimeoutError, aiohttp.ClientError) as failed:
                record["attempts"].append({"at": stamp, "error": type(failed).__name__})
                continue
            record["attempts"].append({"at": stamp, "status": status})
            if 200 <= status < 300:
                record["delivered"] = True
                return
    log.warning("webhook %s (%s) not delivered to %s", event.id, event.type, endpoint.url)


# --- payment intents ---------------------------------------------------------------------


def _patch_intents() -> None:
    create = PaymentIntent.__init__

    def init(self, description=None, **kwargs):
        create(self, **kwargs)
        self.description = description

    PaymentIntent.__init__ = init  # type: ignore[method-assign]


def cancel_intent(intent_id: str, data: dict):
    """POST /v1/payment_intents/:id/cancel, which also sends payment_intent.canceled."""
    reason = data.pop("cancellation_reason", None)
    intent = PaymentIntent._api_cancel(intent_id, **data)
    intent.cancellation_reason = reason
    webhooks.schedule_webhook(Event("payment_intent.canceled", intent))
    return 200, intent._export()


def authenticate_intent(intent_id: str, data: dict):
    """localstripe's 3D Secure answer; a failed one sends payment_intent.payment_failed."""
    intent = PaymentIntent._api_authenticate(intent_id, **data)
    if intent._authentication_failed:
        webhooks.schedule_webhook(Event("payment_intent.payment_failed", intent))
    return 200, intent._export()


def card_error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": "card_error", "code": code, "message": message, **extra}}


def confirm_intent(intent_id: str, data: dict, *, publishable_key: str, by_secret_key: bool):
    """POST /v1/payment_intents/:id/confirm as Stripe answers it: (status, body)."""
    intent = PaymentIntent._api_retrieve(intent_id)
    if not by_secret_key:
        given = data.get("client_secret")
        if data.get("key") != publishable_key:
            raise UserError(401, "Invalid API Key provided")
        if not isinstance(given, str) or not hmac.compare_digest(given, intent.client_secret):
            raise UserError(
                400,
                "The client_secret provided does not match the client_secret associated "
                "with the PaymentIntent.",
                {"code": "payment_intent_invalid_parameter", "param": "client_secret"},
            )
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(
            400,
            f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
            {"code": "payment_intent_unexpected_state"},
        )
    try:
        method = _payment_method(data)
    except UserError as bad:
        if bad.body["error"].get("code") == "invalid_expiry_year":
            return 402, card_error("invalid_expiry_year", "Your card's expiration year is invalid.")
        return 402, card_error("incorrect_number", "Your card number is incorrect.")
    if method is None and intent.payment_method is None:
        raise UserError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            {"code": "payment_intent_unexpected_state"},
        )
    if method is not None:
        intent.payment_method = method.id
    if intent.latest_charge is not None and intent.latest_charge.status == "failed":
        intent.latest_charge = None  # a new card after a decline is a new attempt
    try:
        intent._confirm(on_failure_now=intent._report_failure)
    except UserError as declined:  # the charge was declined; payment_failed is on its way
        error = declined.body["error"]
        return 402, card_error(
            error.get("code", "card_declined"),
            error.get("message", "Your card was declined."),
            decline_code="generic_decline",
            charge=error.get("charge"),
            payment_intent=intent._export(),
        )
    if intent.status == "requires_action":
        webhooks.schedule_webhook(Event("payment_intent.requires_action", intent))
    return 200, intent._export()


def _payment_method(data: dict) -> PaymentMethod | None:
    given = data.get("payment_method_data")
    if given is not None:
        if not isinstance(given, dict) or given.get("type") != "card":
            raise UserError(400, "Only card payment_method_data is supported here")
        card = given.get("card") if isinstance(given.get("card"), dict) else {}
        details = given.get("billing_details")
        return PaymentMethod(
            type="card",
            card={
                "number": re.sub(r"\s", "", str(card.get("number", ""))),
                "exp_month": card.get("exp_month"),
                "exp_year": card.get("exp_year"),
                "cvc": str(card.get("cvc", "")),
            },
            billing_details=details if isinstance(details, dict) else None,
        )
    method_id = data.get("payment_method")
    if method_id is None:
        return None
    if not isinstance(method_id, str) or not method_id.startswith("pm_"):
        raise UserError(400, "Invalid payment_method", {"param": "payment_method"})
    return PaymentMethod._api_retrieve(method_id)


# --- refunds -----------------------------------------------------------------------------


def _patch_refunds() -> None:
    create = Refund.__init__

    def init(self, charge=None, payment_intent=None, amount=None, metadata=None, **kwargs):
        amount = _refundable(charge, payment_intent, amount)
        create(self, charge, payment_intent, amount, metadata, **kwargs)
        webhooks.schedule_webhook(Event("charge.refunded", Charge._api_retrieve(self.charge)))
        webhooks.schedule_webhook(Event("refund.created", self))

    Refund.__init__ = init  # type: ignore[method-assign]


def _refundable(charge_id, intent_id, amount):
    """The amount to refund (the rest of the charge when none is given); 400s as Stripe's."""
    try:
        if isinstance(intent_id, str):
            charge = PaymentIntent._api_retrieve(intent_id).latest_charge
            if charge is None:
                raise UserError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge "
                    "to refund.",
                    {"code": "charge_not_refundable"},
                )
        elif isinstance(charge_id, str):
            charge = Charge._api_retrieve(charge_id)
        else:
            return amount  # localstripe's own check answers this one
    except UserError as missing:
        if missing.code == 404:
            return amount
        raise
    left = charge.amount - charge.amount_refunded
    wanted = resources.try_convert_to_int(amount) if amount is not None else left
    if left <= 0:
        raise UserError(
            400,
            f"Charge {charge.id} has already been refunded.",
            {"code": "charge_already_refunded"},
        )
    if type(wanted) is int and wanted > left:
        raise UserError(
            400,
            f"Refund amount ({wanted}) is greater than unrefunded amount on charge ({left})",
            {"code": "amount_too_large", "param": "amount"},
        )
    return wanted
