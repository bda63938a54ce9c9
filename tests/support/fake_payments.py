"""A fake payment provider behind the real adapter interface, for fast service tests.

It signs webhooks with HMAC-SHA256 over the raw body (header X-Fake-Signature), keeps
its payments in memory, honours idempotency keys like a real provider, and records
every call so tests can count them. Tests install it in place of one real slug.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
    WebhookRejected,
    header,
)


@dataclass
class FakeProvider:
    """The provider's side: its records, and what it was asked."""

    payments: dict[str, ProviderPayment] = field(default_factory=dict)
    checkouts_by_key: dict[str, str] = field(default_factory=dict)
    refunds_by_key: dict[str, RefundResult] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, idempotency key or ref)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event_body(
    event_id: str,
    *,
    ref: str = "",
    merchant_ref: str = "",
    status: str = "",
    refund_ref: str = "",
    refund_status: str = "",
    amount: int | None = None,
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": f"fake.{status or refund_status}",
            "ref": ref,
            "merchant_ref": merchant_ref,
            "status": status,
            "refund_ref": refund_ref,
            "refund_status": refund_status,
            "amount": amount,
        }
    ).encode()


class FakeAdapter:
    display_name = "Fake Pay"
    capabilities = Capabilities(methods=("card",))
    webhook_ack = WebhookAck(200, b"ok", "text/plain")

    def __init__(self, slug: str, provider: FakeProvider, *, capture_after_approval: bool = False):
        self.slug = slug
        self.provider = provider
        if capture_after_approval:
            self.capabilities = Capabilities(capture_after_approval=True)

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        p = self.provider
        with p.lock:
            p.calls.append(("create_checkout", request.idempotency_key))
            ref = p.checkouts_by_key.setdefault(
                request.idempotency_key, f"fake_{len(p.checkouts_by_key) + 1}"
            )
            p.payments.setdefault(
                ref,
                ProviderPayment(ref, PaymentStatus.PENDING, request.amount_minor, request.currency),
            )
        return Checkout(ref, f"{account.api_base}/pay/{ref}")

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        given = header(headers, "X-Fake-Signature")
        if not given or not hmac.compare_digest(
            given, sign(account.secrets.get("webhook_secret", ""), body)
        ):
            raise WebhookRejected("bad signature")
        try:
            data = json.loads(body)
        except ValueError:
            raise WebhookRejected("not JSON") from None
        return [
            PaymentEvent(
                event_id=data["id"],
                event_type=data["type"],
                provider_reference=data["ref"],
                merchant_reference=data["merchant_ref"],
                payment_status=PaymentStatus(data["status"]) if data["status"] else None,
                refund_status=RefundStatus(data["refund_status"])
                if data["refund_status"]
                else None,
                refund_reference=data["refund_ref"],
                amount_minor=data["amount"],
            )
        ]

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        with self.provider.lock:
            self.provider.calls.append(("fetch_payment", provider_reference))
            try:
                return self.provider.payments[provider_reference]
            except KeyError:
                raise ProviderRejected("no such payment") from None

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        with self.provider.lock:
            self.provider.calls.append(("capture", idempotency_key))
            current = self.provider.payments[provider_reference]
            captured = ProviderPayment(
                provider_reference, PaymentStatus.SUCCEEDED, current.amount_minor, current.currency
            )
            self.provider.payments[provider_reference] = captured
            return captured

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
        with self.provider.lock:
            self.provider.calls.append(("refund", idempotency_key))
            if idempotency_key in self.provider.refunds_by_key:
                return self.provider.refunds_by_key[idempotency_key]
            result = RefundResult(
                f"re_{len(self.provider.refunds_by_key) + 1}",
                RefundStatus.PENDING,
                amount_minor,
                refund_id,
            )
            self.provider.refunds_by_key[idempotency_key] = result
            return result
