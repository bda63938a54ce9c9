"""Alipay's adapter: PC web checkout as a signed gateway redirect, trade query, refunds, notifies.

Checkout makes no server call: the browser carries our RSA2-signed `alipay.trade.page.pay`
parameters to Alipay's gateway, and out_trade_no (our payment id) is Alipay's idempotency
key, so the same payment opens the same trade however often the link is built. Query and
refund are signed gateway calls whose answers are checked with Alipay's public key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx

from backend.domain.statuses import RefundStatus
from backend.integrations.payments.alipay import codes, notify, wire
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

SLUG = "alipay"
QUERY = "alipay.trade.query"
REFUND = "alipay.trade.refund"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"


class AlipayAdapter:
    slug = SLUG
    display_name = "Alipay"
    capabilities = Capabilities(
        capture_after_approval=False,
        partial_refunds=True,
        fields_on_our_page=False,
        signs_raw_body=False,  # RSA2 over the sorted fields
        signed_timestamp=True,  # notify_time is one of them
        methods=("alipay",),
    )
    webhook_ack = WebhookAck(status_code=200, body=b"success", content_type="text/plain")

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        params = wire.signed_params(
            account,
            wire.PAGE_PAY,
            wire.page_pay_biz(request),
            datetime.now(UTC),
            notify_url=request.notify_url,
            return_url=request.return_url,
        )
        return Checkout(
            provider_reference=request.payment_id,
            redirect_url=f"{wire.gateway(account)}?{urlencode(params)}",
        )

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        return notify.verify(body, account, now)

    def _call(self, method: str, biz: dict, account: ProviderAccount, client: httpx.Client) -> dict:
        params = wire.signed_params(account, method, biz, datetime.now(UTC))
        response = call(
            client,
            SLUG,
            "POST",
            wire.gateway(account),
            params={"charset": "utf-8"},
            data=params,
            headers={"Accept": "application/json"},
        )
        return wire.answer_node(response.content, method, account)

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        # ACQ.TRADE_NOT_EXIST (ProviderRejected) until the buyer has logged in on the page.
        node = self._call(QUERY, {"out_trade_no": provider_reference}, account, client)
        return wire.read_trade(node, provider_reference)

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        raise ProviderRejected(f"{SLUG} does not capture separately: page payments settle at once")

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
        # out_request_no (our refund id) is Alipay's idempotency key: a repeat moves no money
        # and answers fund_change=N, so the refund itself is then read back to say what it is.
        biz = {
            "out_trade_no": provider_reference,
            "refund_amount": wire.amount_text(amount_minor, currency),
            "out_request_no": refund_id,
        }
        node = self._call(REFUND, biz, account, client)
        if node.get("out_trade_no") != provider_reference:
            raise ProviderRejected(f"{SLUG} answered about another trade")
        if node.get("fund_change") == "Y":
            return RefundResult(refund_id, RefundStatus.SUCCEEDED, amount_minor, refund_id)
        found = self._call(
            REFUND_QUERY,
            {"out_trade_no": provider_reference, "out_request_no": refund_id},
            account,
            client,
        )
        return self._read_refund(found, refund_id, amount_minor, currency)

    @staticmethod
    def _read_refund(node: dict, refund_id: str, amount_minor: int, currency: str) -> RefundResult:
        amount = node.get("refund_amount", "")
        if node.get("out_request_no") != refund_id or not amount:
            # Not (yet) found: Alipay says to ask again with the same out_request_no.
            return RefundResult(refund_id, RefundStatus.PENDING, amount_minor, refund_id)
        status = codes.refund_status(node.get("refund_status") or "REFUND_SUCCESS")
        try:
            refunded = wire.amount_minor(amount, currency)
        except ValueError as exc:
            raise ProviderRejected(f"{SLUG} answered an unreadable refund_amount") from exc
        return RefundResult(refund_id, status or RefundStatus.PENDING, refunded, refund_id)
