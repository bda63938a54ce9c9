"""Stripe's adapter: PaymentIntents for Stripe.js card fields on our page, webhooks, re-reads, refunds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import httpx

from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    Capabilities,
    Checkout,
    CheckoutRequest,
    PaymentEvent,
    ProviderAccount,
    ProviderPayment,
    ProviderRejected,
    RefundResult,
    WebhookAck,
    WebhookRejected,
    header,
)
from backend.integrations.payments.stripe import signature, wire
from backend.integrations.payments.stripe.transport import call, sdk_client

DEFAULT_JS_URL = "https://js.stripe.com/v3/"
MAX_REFUNDS_READ = 100  # Stripe's page limit; a parcel payment never has more refunds


class StripeAdapter:
    slug = "stripe"
    display_name = "Stripe"
    capabilities = Capabilities(
        capture_after_approval=False,
        partial_refunds=True,
        fields_on_our_page=True,
        signs_raw_body=True,
        signed_timestamp=True,
        methods=("card",),
    )
    webhook_ack = WebhookAck(status_code=200, body=b"", content_type="text/plain")

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        """A PaymentIntent keyed by our idempotency key; Stripe.js confirms it on our card page."""
        publishable_key = account.setting("publishable_key")  # before creating anything
        try:
            params = wire.checkout_params(request)
        except ValueError as bad:
            raise ProviderRejected(str(bad)) from None
        sdk = sdk_client(account, client)
        intent = call(
            lambda: sdk.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        )
        client_secret = intent.get("client_secret")
        if not isinstance(client_secret, str) or not client_secret:
            raise ProviderRejected("stripe answered a PaymentIntent without a client_secret")
        return Checkout(
            provider_reference=_readable(wire.read_payment, intent, []).provider_reference,
            redirect_url="",  # our own card page; the service knows its URL
            client_fields={
                "publishable_key": publishable_key,
                "client_secret": client_secret,
                "js_url": account.settings.get("js_url") or DEFAULT_JS_URL,
                "locale": request.locale,
            },
        )

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        """Signature over the raw bytes first (secrets["webhook_secret"]), then the JSON."""
        if len(body) > MAX_WEBHOOK_BYTES:
            raise WebhookRejected("webhook body too large")
        signature.verify(
            header(headers, "Stripe-Signature"),
            body,
            account.secrets.get("webhook_secret", ""),
            now,
        )
        try:
            event = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected("the webhook body is not UTF-8 JSON") from None
        if not isinstance(event, dict):
            raise WebhookRejected("the webhook body is not a Stripe event")
        try:
            return [wire.read_event(event)]
        except (wire.Unreadable, TypeError, ValueError, OverflowError) as bad:
            raise WebhookRejected(f"unreadable Stripe event: {bad}") from None

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        """The PaymentIntent and, once it has a charge, its refunds."""
        if not provider_reference.startswith("pi_"):
            raise ProviderRejected("a Stripe payment reference is a PaymentIntent id (pi_...)")
        sdk = sdk_client(account, client)
        intent = call(lambda: sdk.v1.payment_intents.retrieve(provider_reference))
        refunds = []
        if intent.get("latest_charge"):  # no charge yet means no refunds (and nothing to list)
            listed = call(
                lambda: sdk.v1.refunds.list(
                    params={"payment_intent": provider_reference, "limit": MAX_REFUNDS_READ}
                )
            )
            refunds = listed.get("data")
            if not isinstance(refunds, list):
                raise ProviderRejected("stripe answered a refund list without data")
        return _readable(wire.read_payment, intent, refunds)

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        raise ProviderRejected("stripe does not capture separately (automatic capture)")

    def refund(
        self,
        provider_reference: str,
        amount_minor: int,
        currency: str,
        refund_id: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> RefundResult:
        """A Refund of the intent's charge; Stripe replays the same refund for the same key.

        Stripe takes no currency for a refund: it is always the charge's, which is the
        currency we created the intent in.
        """
        try:
            params = wire.refund_params(provider_reference, amount_minor, refund_id)
        except ValueError as bad:
            raise ProviderRejected(str(bad)) from None
        sdk = sdk_client(account, client)
        refund = call(
            lambda: sdk.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        )
        return _readable(wire.read_refund, refund)


def _readable(read, *args):
    """A Stripe answer read into our types; missing fields mean we cannot trust it."""
    try:
        return read(*args)
    except (wire.Unreadable, TypeError, ValueError, AttributeError) as bad:
        raise ProviderRejected(f"unreadable Stripe answer: {bad}") from None
