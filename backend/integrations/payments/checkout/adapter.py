"""Checkout.com's adapter: the Hosted Payments Page, payment re-reads, refunds, verified webhooks.

Two ids name one payment here. `create_checkout` gets the hosted page's id (`hpp_...`), which
is what we store; the payment made on that page has its own (`pay_...`), which webhooks carry
in data.id and which refunds need. Both carry our payment id as `reference`, so the adapter
maps one to the other: `GET /hosted-payments/{hpp}` gives the reference, and
`GET /payments?reference=...` the payments made with it. fetch_payment and refund take either id.

API calls go through the httpx client we are given with the wire format of `checkout-sdk`:
that SDK can be aimed at another base URL only through its deprecated `use_legacy_domain()`
(otherwise it prefixes a merchant subdomain to the host), sends every call through a
requests.Session with no timeout, cannot use our client, and has no webhook verifier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from backend.domain.statuses import PaymentStatus, RefundStatus
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
from backend.integrations.payments.checkout import webhooks
from backend.integrations.payments.checkout.codes import PAYMENT_STATUS, SESSION_STATUS

SLUG = "checkout"
LOCALES = {"en": "en-GB", "zh-HK": "zh-HK"}
MAX_DESCRIPTION = 100  # the hosted page's limit
_PAYMENT_ID = re.compile(r"pay_[A-Za-z0-9]{1,64}")
_SESSION_ID = re.compile(r"hpp_[A-Za-z0-9_-]{1,64}")
# When several payments were made on one page (a decline, then a success), the one that got
# furthest is the page's payment: a success first, then a void, an authorization, a decline.
_RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.PENDING: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.AUTHORIZED: 3,
    PaymentStatus.CANCELLED: 4,
    PaymentStatus.SUCCEEDED: 5,
}


# --- pure -----------------------------------------------------------------------------


def endpoint(account: ProviderAccount, path: str) -> str:
    return f"{account.api_base.rstrip('/')}{path}"


def api_headers(account: ProviderAccount, idempotency_key: str = "") -> dict[str, str]:
    sent = {"Authorization": f"Bearer {account.secret('secret_key')}", "Accept": "application/json"}
    if idempotency_key:
        sent["Cko-Idempotency-Key"] = idempotency_key
    return sent


def build_hosted_payment(request: CheckoutRequest, account: ProviderAccount) -> dict[str, Any]:
    """The hosted page request: our payment id is the `reference`, the amount in minor units."""
    body: dict[str, Any] = {
        "amount": request.amount_minor,
        "currency": request.currency.upper(),
        "reference": request.payment_id,
        "description": request.description[:MAX_DESCRIPTION],
        "billing": {"address": {"country": account.settings.get("country", "HK")}},
        "success_url": request.return_url,
        "failure_url": request.return_url,  # our receipt page shows a decline too
        "cancel_url": request.cancel_url,
        "locale": LOCALES.get(request.locale, "en-GB"),
        "allow_payment_methods": ["card", "octopus"],
        "metadata": {"order_reference": request.order_reference},
    }
    if request.customer_email:
        body["customer"] = {"email": request.customer_email}
    if account.settings.get("processing_channel_id"):
        body["processing_channel_id"] = account.settings["processing_channel_id"]
    return body


def read_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (UnicodeDecodeError, ValueError):
        raise ProviderRejected(f"{SLUG} answered something that is not JSON") from None


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ProviderRejected(f"{SLUG} {what} answer is not a JSON object")
    return document


def parse_hosted(document: Any, payment_id: str) -> Checkout:
    document = _object(document, "hosted payment")
    session_id = document.get("id")
    links = document.get("_links")
    redirect = links.get("redirect") if isinstance(links, dict) else None
    href = redirect.get("href") if isinstance(redirect, dict) else None
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise ProviderRejected(f"{SLUG} answer has no hosted payment id")
    if not isinstance(href, str) or not href.startswith(("https://", "http://")):
        raise ProviderRejected(f"{SLUG} answer has no redirect link")
    if document.get("reference", payment_id) != payment_id:
        raise ProviderRejected(f"{SLUG} answered with a page for another reference")
    return Checkout(provider_reference=session_id, redirect_url=href)


def _amount(document: Mapping[str, Any]) -> tuple[int, str]:
    amount, currency = document.get("amount"), document.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        raise ProviderRejected(f"{SLUG} answer has no readable amount")
    return amount, currency


def payment_status(document: Mapping[str, Any]) -> PaymentStatus:
    status = document.get("status")
    if status not in PAYMENT_STATUS:
        raise ProviderRejected(f"{SLUG} payment has an unknown status {str(status)[:40]!r}")
    return PAYMENT_STATUS[status]


def choose_payment(document: Any) -> dict[str, Any] | None:
    """The payment a hosted page led to, from `GET /payments?reference=`; None when none was made."""
    found = _object(document, "payment list").get("data")
    if not isinstance(found, list):
        raise ProviderRejected(f"{SLUG} payment list has no data")
    payments = [_object(p, "payment") for p in found]
    if not payments:
        return None
    return max(payments, key=lambda p: (_RANK[payment_status(p)], str(p.get("requested_on", ""))))


def parse_refunds(document: Any) -> list[RefundResult]:
    """The refunds among `GET /payments/{id}/actions`; approved false is a declined refund."""
    if not isinstance(document, list):
        raise ProviderRejected(f"{SLUG} actions answer is not a list")
    refunds = []
    for action in document:
        action = _object(action, "action")
        if action.get("type") != "Refund":
            continue
        action_id, amount = action.get("id"), action.get("amount")
        if (
            not isinstance(action_id, str)
            or isinstance(amount, bool)
            or not isinstance(amount, int)
        ):
            raise ProviderRejected(f"{SLUG} refund action is unreadable")
        reference = action.get("reference")
        refunds.append(
            RefundResult(
                refund_reference=action_id,
                status=RefundStatus.SUCCEEDED
                if action.get("approved") is True
                else RefundStatus.FAILED,
                amount_minor=amount,
                merchant_reference=reference if isinstance(reference, str) else "",
            )
        )
    return refunds


def parse_refund_answer(document: Any, amount_minor: int, refund_id: str) -> RefundResult:
    action_id = _object(document, "refund").get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise ProviderRejected(f"{SLUG} refund answer has no action_id")
    reference = document.get("reference")
    return RefundResult(
        refund_reference=action_id,
        status=RefundStatus.PENDING,  # 202 Accepted: payment_refunded (or _declined) follows
        amount_minor=amount_minor,
        merchant_reference=reference if isinstance(reference, str) and reference else refund_id,
    )


# --- the thin HTTP part ---------------------------------------------------------------


class CheckoutAdapter:
    slug = SLUG
    display_name = "Checkout.com"
    capabilities = Capabilities(
        signs_raw_body=True, signed_timestamp=True, methods=("card", "octopus")
    )
    webhook_ack = WebhookAck()

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        response = call(
            client,
            SLUG,
            "POST",
            endpoint(account, "/hosted-payments"),
            json=build_hosted_payment(request, account),
            headers=api_headers(account, request.idempotency_key),
        )
        return parse_hosted(read_json(response), request.payment_id)

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        return webhooks.verify(headers, body, account, now)

    def _get(self, account: ProviderAccount, client: httpx.Client, path: str, **params: str) -> Any:
        response = call(
            client,
            SLUG,
            "GET",
            endpoint(account, path),
            params=params,
            headers=api_headers(account),
        )
        return read_json(response)

    def _payment(
        self, reference: str, account: ProviderAccount, client: httpx.Client
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(payment, hosted page) for a pay_ or hpp_ id; no payment until one was made on the page."""
        if _PAYMENT_ID.fullmatch(reference):
            return _object(self._get(account, client, f"/payments/{reference}"), "payment"), {}
        if not _SESSION_ID.fullmatch(reference):
            raise ProviderRejected(
                f"{SLUG} references are pay_... or hpp_..., not {reference[:40]!r}"
            )
        session = _object(self._get(account, client, f"/hosted-payments/{reference}"), "hosted")
        ours = session.get("reference")
        if not isinstance(ours, str) or not ours:
            raise ProviderRejected(f"{SLUG} hosted payment has no reference")
        found = self._get(account, client, "/payments", reference=ours, limit="100")
        return choose_payment(found), session

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        """The payment and its refunds; for a hosted page nobody has paid on yet, the page's state."""
        payment, session = self._payment(provider_reference, account, client)
        if payment is None:
            status = SESSION_STATUS.get(str(session.get("status")), PaymentStatus.CREATED)
            amount, currency = _amount(session)
            return ProviderPayment(provider_reference, status, amount, currency)
        payment_id = str(payment.get("id"))
        if not _PAYMENT_ID.fullmatch(payment_id):
            raise ProviderRejected(f"{SLUG} payment has no id")
        amount, currency = _amount(payment)
        refunds = parse_refunds(self._get(account, client, f"/payments/{payment_id}/actions"))
        return ProviderPayment(payment_id, payment_status(payment), amount, currency, refunds)

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        raise ProviderRejected(f"{SLUG} does not capture separately (hosted payments capture)")

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
        """Refund in the payment's own currency (the API takes none); `currency` is not sent."""
        if amount_minor <= 0:
            raise ProviderRejected("a refund must be for a positive amount")
        payment_id = provider_reference
        if not _PAYMENT_ID.fullmatch(provider_reference):
            payment, _ = self._payment(provider_reference, account, client)
            if payment is None or not isinstance(payment.get("id"), str):
                raise ProviderRejected(
                    f"{SLUG} has no payment on {provider_reference[:40]!r} to refund"
                )
            payment_id = payment["id"]
        response = call(
            client,
            SLUG,
            "POST",
            endpoint(account, f"/payments/{payment_id}/refunds"),
            json={"amount": amount_minor, "reference": refund_id},
            headers=api_headers(account, idempotency_key),
        )
        return parse_refund_answer(read_json(response), amount_minor, refund_id)
