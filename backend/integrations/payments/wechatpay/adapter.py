"""WeChat Pay API v3's adapter: H5 checkout, order query, refunds, verified and decrypted notifications.

Every request is signed with the merchant's API key; every answer we read is checked
against WeChat's platform certificate (fetched from /v3/certificates and cached), as
notifications are. Our payment id travels as out_trade_no (its 32 hex digits) and our
refund id as out_refund_no: both are WeChat's idempotency keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from backend.integrations.payments.base import (
    Capabilities,
    Checkout,
    CheckoutRequest,
    PaymentEvent,
    PaymentProviderError,
    ProviderAccount,
    ProviderPayment,
    ProviderRejected,
    RefundResult,
    WebhookAck,
    WebhookRejected,
)
from backend.integrations.payments.wechatpay import api, certificates, notifications, wire

SLUG = "wechatpay"


class WeChatPayAdapter:
    slug = SLUG
    display_name = "WeChat Pay"
    capabilities = Capabilities(
        capture_after_approval=False,
        partial_refunds=True,
        fields_on_our_page=False,
        signs_raw_body=True,
        signed_timestamp=True,
        methods=("wechatpay",),
    )
    webhook_ack = WebhookAck(status_code=200, body=b"", content_type="text/plain")

    def __init__(self, platform: certificates.PlatformCertificates | None = None):
        self.platform = platform or certificates.PlatformCertificates()

    def _verified(
        self, response: httpx.Response, account: ProviderAccount, http: httpx.Client
    ) -> dict:
        """The answer's JSON, once its Wechatpay-* signature proves it is WeChat's."""
        now = datetime.now(UTC)
        certificates.check_signed(
            response.headers,
            response.content,
            lambda serial: self.platform.key_for(serial, account, http, now),
            now,
        )
        return api.json_object(response)

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        # A repeat with the same out_trade_no and body gets the same h5_url back.
        payload = wire.h5_payload(request, account)
        response = api.send(client, account, "POST", "/v3/pay/transactions/h5", payload)
        h5_url = wire.read_h5(self._verified(response, account, client))
        return Checkout(
            provider_reference=payload["out_trade_no"],
            redirect_url=wire.redirect_url(h5_url, request.return_url),
        )

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        def key_for(serial: str):
            try:
                return self.platform.key_for(serial, account, client, now)
            except PaymentProviderError as exc:
                # Not proven genuine: refused, and WeChat sends it again later.
                raise WebhookRejected(f"platform certificates unavailable: {exc}") from exc

        return notifications.verify(headers, body, account, now, key_for)

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        out_trade_no = wire.out_trade_no(provider_reference)
        mchid = quote(account.setting("mchid"), safe="")
        path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={mchid}"
        response = api.send(client, account, "GET", path)
        return wire.read_transaction(self._verified(response, account, client), account)

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        raise ProviderRejected(f"{SLUG} does not capture separately: H5 payments settle at once")

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
        # WeChat wants the order's total with each refund: read it rather than trust a caller.
        # out_refund_no (our refund id) is the idempotency key: a repeat refunds nothing more.
        payment = self.fetch_payment(provider_reference, account, client)
        if payment.currency.upper() != currency.upper():
            raise ProviderRejected(f"{SLUG} payment is in {payment.currency}, not {currency}")
        payload = wire.refund_payload(
            wire.out_trade_no(provider_reference),
            refund_id,
            amount_minor,
            payment.amount_minor,
            currency,
        )
        response = api.send(client, account, "POST", "/v3/refund/domestic/refunds", payload)
        return wire.read_refund(self._verified(response, account, client))
