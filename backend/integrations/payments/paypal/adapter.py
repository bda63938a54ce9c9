"""PayPal's adapter: Orders v2 over httpx, captured after the buyer approves, refunds, signed webhooks.

The official `paypal-server-sdk` is not used: its base URL comes from a fixed
production/sandbox table and it sends through its own `requests` session, so it can
neither be pointed at an account's api_base per client nor use the httpx client (and
its limits) that every adapter call is given. The wire format is the SDK's own:
docs/payments/paypal.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from backend.domain.statuses import PaymentStatus
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
    WebhookRejected,
)
from backend.integrations.payments.paypal import codes, events, signature, transport, wire
from backend.integrations.payments.paypal.auth import TokenCache, api_root

TOKENS = TokenCache()


class PayPalAdapter:
    slug = "paypal"
    display_name = "PayPal"
    capabilities = Capabilities(
        capture_after_approval=True, methods=("paypal",), confirm_events_by_fetch=True
    )
    webhook_ack = WebhookAck()  # PayPal wants any 2xx; the body is ignored

    def __init__(
        self,
        tokens: TokenCache = TOKENS,
        certificates: signature.CertificateCache = signature.CERTIFICATES,
    ):
        self._tokens = tokens
        self._certificates = certificates

    # --- the API ---------------------------------------------------------------------

    def _api(
        self,
        method: str,
        path: str,
        account: ProviderAccount,
        client: httpx.Client,
        *,
        body: dict[str, Any] | None = None,
        request_id: str = "",
    ) -> transport.Answer:
        """One authenticated call; a 401 on a cached token gets one fresh token and one retry."""
        headers = {"Accept": "application/json", "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = wire.check_request_id(request_id)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, separators=(",", ":")).encode()
        url = api_root(account) + path
        for attempt in (1, 2):
            headers["Authorization"] = "Bearer " + self._tokens.token(account, client)
            answer = transport.send(client, method, url, headers=headers, content=content)
            if answer.status_code != 401 or attempt == 2:
                return answer
            self._tokens.forget(account)
        raise AssertionError("unreachable")

    def _order(self, order_id: str, account: ProviderAccount, client: httpx.Client) -> dict:
        path = f"/v2/checkout/orders/{wire.check_id(order_id, 'order')}"
        answer = self._api("GET", path, account, client)
        answer.raise_for_status()
        return answer.json()

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        answer = self._api(
            "POST",
            "/v2/checkout/orders",
            account,
            client,
            body=wire.build_order(request),
            request_id=request.idempotency_key,  # the same key gives back the same order
        )
        answer.raise_for_status()
        order = answer.json()
        order_id = order.get("id")
        redirect = wire.link(order, "payer-action", "approve")
        if not isinstance(order_id, str) or not order_id or not redirect:
            raise ProviderRejected("paypal's order has no id or no approval link")
        if not redirect.startswith(("https://", "http://")):
            raise ProviderRejected("paypal's approval link is not an http(s) URL")
        return Checkout(provider_reference=wire.check_id(order_id, "order"), redirect_url=redirect)

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        return wire.parse_order(self._order(provider_reference, account, client))

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        path = f"/v2/checkout/orders/{wire.check_id(provider_reference, 'order')}/capture"
        answer = self._api("POST", path, account, client, body={}, request_id=idempotency_key)
        if answer.status_code == 422:
            issue = transport.error_issue(answer.body)
            if issue == "ORDER_ALREADY_CAPTURED":  # captured by an earlier try: read the outcome
                return self.fetch_payment(provider_reference, account, client)
            if issue in codes.CAPTURE_DECLINE_ISSUES:
                found = self.fetch_payment(provider_reference, account, client)
                return ProviderPayment(
                    provider_reference=found.provider_reference,
                    status=PaymentStatus.FAILED,
                    amount_minor=found.amount_minor,
                    currency=found.currency,
                    refunds=found.refunds,
                    capture_reference=found.capture_reference,
                )
        answer.raise_for_status()
        return wire.parse_order(answer.json())

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
        # Refunds go against a capture, and we keep the order id: read the order for it.
        capture = wire.refundable_capture(self._order(provider_reference, account, client))
        if capture is None:
            raise ProviderRejected("the paypal order has no completed capture to refund")
        capture_id, captured_in = capture
        if captured_in != currency:
            raise ProviderRejected(f"the paypal capture is in {captured_in}, not {currency}")
        answer = self._api(
            "POST",
            f"/v2/payments/captures/{capture_id}/refund",
            account,
            client,
            body=wire.build_refund(amount_minor, currency, refund_id),
            request_id=idempotency_key,  # the same key answers with the same refund
        )
        answer.raise_for_status()
        return wire.parse_refund(answer.json())

    # --- webhooks --------------------------------------------------------------------

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        webhook_id = account.settings.get("webhook_id", "")
        if not webhook_id:
            raise WebhookRejected("the paypal account has no webhook_id configured")
        signature.verify(
            headers,
            body,
            webhook_id=webhook_id,
            api_base=account.api_base,
            now=now,
            client=client,
            certificates=self._certificates,
        )
        return [events.parse(body)]
