"""Adyen's adapter: Pay by Link for the hosted page, link re-reads, refunds, verified notifications.

Pay by Link (`POST /v71/paymentLinks`) rather than `/sessions`: a link's `url` is a whole
Adyen-hosted page that needs nothing from our side (no Drop-in script, no sessionData), so the
sandbox can stand in for it with one page; and `GET /v71/paymentLinks/{id}` lets the worker
re-read a link's status with no more than the id we stored, where a session's result needs
the `sessionResult` blob that only the shopper's browser brings back.

API calls go through the httpx client we are given (our timeouts, proxies off,
httpx.MockTransport in tests) with the wire format of Adyen's own SDK: the SDK's services
can be aimed at another base URL, but its HTTP layer is requests/pycurl/urllib, chosen by what
is installed, and cannot use that client. The SDK's HMAC validator is used, in notifications.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from backend.domain.statuses import RefundStatus
from backend.integrations.payments.adyen import notifications
from backend.integrations.payments.adyen.codes import LINK_STATUS
from backend.integrations.payments.base import (
    Capabilities,
    Checkout,
    CheckoutRequest,
    PaymentEvent,
    ProviderAccount,
    ProviderPayment,
    ProviderRejected,
    RefundResult,
    WebhookAck,
    call,
)

SLUG = "adyen"
API_VERSION = "v71"
# Adyen's hosted pages offer Traditional Chinese as zh-TW; English is their default en-US.
SHOPPER_LOCALES = {"en": "en-US", "zh-HK": "zh-TW"}
_LINK_ID = re.compile(r"PL[A-Za-z0-9]{1,62}")
_PSP_REFERENCE = re.compile(r"[A-Za-z0-9]{16}")


# --- pure -----------------------------------------------------------------------------


def endpoint(account: ProviderAccount, path: str) -> str:
    return f"{account.api_base.rstrip('/')}/{API_VERSION}{path}"


def api_headers(account: ProviderAccount, idempotency_key: str = "") -> dict[str, str]:
    sent = {"X-API-Key": account.secret("api_key"), "Accept": "application/json"}
    if idempotency_key:
        sent["Idempotency-Key"] = idempotency_key
    return sent


def build_link_request(request: CheckoutRequest, account: ProviderAccount) -> dict[str, Any]:
    """The Pay by Link request: our payment id is Adyen's `reference`, amounts in minor units."""
    body: dict[str, Any] = {
        "merchantAccount": account.setting("merchant_account"),
        "reference": request.payment_id,
        "amount": {"value": request.amount_minor, "currency": request.currency.upper()},
        "returnUrl": request.return_url,
        "description": request.description,
        "merchantOrderReference": request.order_reference,
        "shopperLocale": SHOPPER_LOCALES.get(request.locale, "en-US"),
        "countryCode": account.settings.get("country", "HK"),
        "reusable": False,
    }
    if request.customer_email:
        body["shopperEmail"] = request.customer_email
    return body


def build_refund_request(
    amount_minor: int, currency: str, refund_id: str, account: ProviderAccount
) -> dict[str, Any]:
    return {
        "merchantAccount": account.setting("merchant_account"),
        "amount": {"value": amount_minor, "currency": currency.upper()},
        "reference": refund_id,
    }


def read_json(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except (UnicodeDecodeError, ValueError):
        raise ProviderRejected(f"{SLUG} answered something that is not JSON") from None
    if not isinstance(document, dict):
        raise ProviderRejected(f"{SLUG} answered JSON that is not an object")
    return document


def _amount(document: Mapping[str, Any]) -> tuple[int, str]:
    amount = document.get("amount")
    value = amount.get("value") if isinstance(amount, dict) else None
    currency = amount.get("currency") if isinstance(amount, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not isinstance(currency, str):
        raise ProviderRejected(f"{SLUG} answer has no readable amount")
    return value, currency


def parse_link(document: Mapping[str, Any], payment_id: str) -> Checkout:
    link_id, url = document.get("id"), document.get("url")
    if not isinstance(link_id, str) or not _LINK_ID.fullmatch(link_id):
        raise ProviderRejected(f"{SLUG} answer has no payment link id")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ProviderRejected(f"{SLUG} answer has no link URL")
    if document.get("reference") != payment_id:
        # An idempotency key reused for another payment gives back that payment's link.
        raise ProviderRejected(f"{SLUG} answered with a link for another reference")
    return Checkout(provider_reference=link_id, redirect_url=url)


def parse_link_status(document: Mapping[str, Any]) -> ProviderPayment:
    link_id, status = document.get("id"), document.get("status")
    if not isinstance(link_id, str) or status not in LINK_STATUS:
        raise ProviderRejected(f"{SLUG} payment link answer has an unknown status")
    value, currency = _amount(document)
    return ProviderPayment(
        provider_reference=link_id,
        status=LINK_STATUS[status],
        amount_minor=value,
        currency=currency,
    )


def parse_refund(document: Mapping[str, Any]) -> RefundResult:
    psp_reference = document.get("pspReference")
    if (
        document.get("status") != "received"
        or not isinstance(psp_reference, str)
        or not psp_reference
    ):
        raise ProviderRejected(f"{SLUG} did not accept the refund")
    value, _ = _amount(document)
    reference = document.get("reference")
    return RefundResult(
        refund_reference=psp_reference,
        status=RefundStatus.PENDING,  # the outcome comes in a REFUND notification
        amount_minor=value,
        merchant_reference=reference if isinstance(reference, str) else "",
    )


# --- the thin HTTP part ---------------------------------------------------------------


class AdyenAdapter:
    slug = SLUG
    display_name = "Adyen"
    capabilities = Capabilities(
        signs_raw_body=False,
        signed_timestamp=False,
        methods=("card",),
        fetch_is_authoritative=False,
        refund_by_capture_reference=True,
    )
    webhook_ack = WebhookAck(status_code=200, body=b"[accepted]", content_type="text/plain")

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        response = call(
            client,
            SLUG,
            "POST",
            endpoint(account, "/paymentLinks"),
            json=build_link_request(request, account),
            headers=api_headers(account, request.idempotency_key),
        )
        return parse_link(read_json(response), request.payment_id)

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        # `now` is unused: nothing in an Adyen notification's signature is a time.
        return notifications.verify(headers, body, account)

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        """The link's status: paid or not; Adyen has no API that reads a payment by pspReference."""
        if not _LINK_ID.fullmatch(provider_reference):
            raise ProviderRejected(
                f"{SLUG} can re-read only a payment link (PL...), not {provider_reference[:40]!r}"
            )
        response = call(
            client,
            SLUG,
            "GET",
            endpoint(account, f"/paymentLinks/{provider_reference}"),
            headers=api_headers(account),
        )
        return parse_link_status(read_json(response))

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        raise ProviderRejected(f"{SLUG} does not capture separately (automatic capture)")

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
        """Refund by the payment's pspReference (its AUTHORISATION notification's), not the link id."""
        if not _PSP_REFERENCE.fullmatch(provider_reference):
            raise ProviderRejected(
                f"{SLUG} refunds need the payment's pspReference from its AUTHORISATION"
                " notification, not a payment link id"
            )
        if amount_minor <= 0:
            raise ProviderRejected("a refund must be for a positive amount")
        response = call(
            client,
            SLUG,
            "POST",
            endpoint(account, f"/payments/{provider_reference}/refunds"),
            json=build_refund_request(amount_minor, currency, refund_id, account),
            headers=api_headers(account, idempotency_key),
        )
        return parse_refund(read_json(response))
