"""Checkout.com against the sandbox: a real `python -m backend.sandbox`, the real adapter, real webhooks."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.base import (
    CheckoutRequest,
    PaymentEvent,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)
from backend.integrations.payments.checkout.adapter import CheckoutAdapter
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.checkout import provision
from tests.integration.payments.conftest import (
    Received,
    Services,
    WebhookReceiver,
    start_provider_sandbox,
)

TENANTS = ("harbour-express", "pearl-couriers")
ADAPTER = CheckoutAdapter()


def hook_path(tenant: str) -> str:
    return f"/webhooks/payments/checkout/{tenant}"


@dataclass
class CheckoutSandbox:
    url: str
    provisions: dict[str, DemoProvision]
    receiver: WebhookReceiver

    def account(self, tenant: str) -> ProviderAccount:
        found = self.provisions[tenant]
        return ProviderAccount("checkout", found.api_base, found.settings, found.secrets)

    def webhooks(self, tenant: str, event_type: str, reference: str) -> list[Received]:
        return [
            hit
            for hit in self.receiver.received(hook_path(tenant))
            if hit.json()["type"] == event_type and hit.json()["data"].get("reference") == reference
        ]

    def webhook(self, tenant: str, event_type: str, reference: str) -> Received:
        return self.receiver.wait_for(
            lambda hit: hit in self.webhooks(tenant, event_type, reference)
        )

    def verified(self, tenant: str, hit: Received) -> list[PaymentEvent]:
        with httpx.Client(trust_env=False) as client:
            return ADAPTER.verify_webhook(
                hit.headers, hit.body, self.account(tenant), hit.arrived_at, client
            )


@pytest.fixture(scope="module")
def sandbox(
    services: Services, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> CheckoutSandbox:
    url, provisions = start_provider_sandbox(
        services,
        webhook_receiver,
        tmp_path_factory.mktemp("checkout"),
        "checkout",
        provision,
        TENANTS,
        hook_path,
    )
    return CheckoutSandbox(url, provisions, webhook_receiver)


def checkout_request(key: str = "") -> CheckoutRequest:
    payment_id = str(uuid.uuid4())
    return CheckoutRequest(
        payment_id=payment_id,
        idempotency_key=key or f"idem-{uuid.uuid4()}",
        amount_minor=12850,
        currency="HKD",
        description="Parcel delivery, Kwun Tong to Sha Tin",
        order_reference="WB-1042",
        customer_email="mei@example.com",
        locale="zh-HK",
        return_url=f"http://127.0.0.1:9/pay/return/{payment_id}?lang=zh-HK",
        cancel_url=f"http://127.0.0.1:9/pay/cancel/{payment_id}",
        notify_url="",
    )


def press(http: httpx.Client, url: str, action: str, method: str = "card") -> httpx.Response:
    return http.post(url, data={"action": action, "method": method}, follow_redirects=False)


def redirected(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def test_pay_webhooks_fetch_and_refund_once(sandbox: CheckoutSandbox, http: httpx.Client):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    assert checkout.provider_reference.startswith("hpp_")
    page = http.get(checkout.redirect_url)
    assert page.status_code == 200
    assert "HKD 128.50" in page.text and "#186aff" in page.text and 'value="octopus"' in page.text
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED

    target, query = redirected(press(http, checkout.redirect_url, "pay"))
    assert target == request.return_url.split("?")[0]
    assert query["lang"] == ["zh-HK"] and query["cko-payment-id"][0].startswith("pay_")
    payment_id = query["cko-payment-id"][0]

    [approved] = sandbox.verified(
        tenant, sandbox.webhook(tenant, "payment_approved", request.payment_id)
    )
    [captured] = sandbox.verified(
        tenant, sandbox.webhook(tenant, "payment_captured", request.payment_id)
    )
    assert (approved.payment_status, captured.payment_status) == (P.AUTHORIZED, P.SUCCEEDED)
    assert (
        captured.provider_reference == payment_id
        and captured.merchant_reference == request.payment_id
    )
    fetched = ADAPTER.fetch_payment(checkout.provider_reference, account, http)
    assert (fetched.provider_reference, fetched.status, fetched.refunds) == (
        payment_id,
        P.SUCCEEDED,
        [],
    )

    refund_id = str(uuid.uuid4())
    result = ADAPTER.refund(
        checkout.provider_reference, 5000, "HKD", refund_id, f"rf-{refund_id}", account, http
    )
    assert (result.status, result.amount_minor, result.merchant_reference) == (
        R.PENDING,
        5000,
        refund_id,
    )
    [refunded] = sandbox.verified(tenant, sandbox.webhook(tenant, "payment_refunded", refund_id))
    assert (refunded.refund_status, refunded.refund_reference) == (
        R.SUCCEEDED,
        result.refund_reference,
    )
    assert (refunded.provider_reference, refunded.merchant_reference) == (payment_id, refund_id)

    again = ADAPTER.refund(payment_id, 5000, "HKD", refund_id, f"rf-{refund_id}", account, http)
    assert again == result  # the same key: the first answer replayed, nothing more refunded
    time.sleep(0.5)
    assert len(sandbox.webhooks(tenant, "payment_refunded", refund_id)) == 1
    refunds = ADAPTER.fetch_payment(payment_id, account, http).refunds
    assert [(r.refund_reference, r.status, r.amount_minor) for r in refunds] == [
        (result.refund_reference, R.SUCCEEDED, 5000)
    ]


def test_octopus_is_offered_and_paid(sandbox: CheckoutSandbox, http: httpx.Client):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    redirected(press(http, checkout.redirect_url, "pay", method="octopus"))
    hit = sandbox.webhook(tenant, "payment_captured", request.payment_id)
    assert hit.json()["data"]["source"]["type"] == "octopus"
    assert sandbox.verified(tenant, hit)[0].payment_status is P.SUCCEEDED


def test_decline_goes_to_the_failure_url_and_says_failed(
    sandbox: CheckoutSandbox, http: httpx.Client
):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    target, query = redirected(press(http, checkout.redirect_url, "decline"))
    assert target == request.return_url.split("?")[0] and query["cko-payment-id"][0].startswith(
        "pay_"
    )
    [declined] = sandbox.verified(
        tenant, sandbox.webhook(tenant, "payment_declined", request.payment_id)
    )
    assert declined.payment_status is P.FAILED and declined.failure_reason
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.FAILED
    with pytest.raises(ProviderRejected):
        ADAPTER.refund(
            declined.provider_reference, 100, "HKD", "r", f"rf-{uuid.uuid4()}", account, http
        )


def test_cancel_goes_to_the_cancel_url_with_no_webhook(
    sandbox: CheckoutSandbox, http: httpx.Client
):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    cancelled = press(http, checkout.redirect_url, "cancel")
    assert (cancelled.status_code, cancelled.headers["location"]) == (303, request.cancel_url)
    time.sleep(0.5)
    mentions = [
        hit
        for hit in sandbox.receiver.received(hook_path(tenant))
        if request.payment_id in hit.body.decode()
    ]
    assert mentions == []
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED


def test_one_idempotency_key_makes_one_hosted_page(sandbox: CheckoutSandbox, http: httpx.Client):
    account = sandbox.account("pearl-couriers")
    request = checkout_request(key=f"idem-{uuid.uuid4()}")
    first = ADAPTER.create_checkout(request, account, http)
    assert ADAPTER.create_checkout(request, account, http) == first
    assert ADAPTER.create_checkout(checkout_request(), account, http) != first


def test_another_tenants_webhook_is_rejected(sandbox: CheckoutSandbox, http: httpx.Client):
    account = sandbox.account("pearl-couriers")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    press(http, checkout.redirect_url, "pay")
    hit = sandbox.webhook("pearl-couriers", "payment_captured", request.payment_id)
    assert sandbox.verified("pearl-couriers", hit)
    with pytest.raises(WebhookRejected):
        sandbox.verified("harbour-express", hit)


def test_wrong_credentials_and_bad_input_get_checkouts_errors(
    sandbox: CheckoutSandbox, http: httpx.Client
):
    found = sandbox.provisions["harbour-express"]
    wrong = ProviderAccount(
        "checkout", found.api_base, found.settings, {**found.secrets, "secret_key": "sk_sbox_x"}
    )
    with pytest.raises(ProviderRejected):
        ADAPTER.create_checkout(checkout_request(), wrong, http)
    url = f"{found.api_base}/hosted-payments"
    bare = {
        "Authorization": found.secrets["secret_key"]
    }  # the API also takes the key without Bearer
    assert (
        http.post(url, content=b"{}", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    garbled = http.post(url, content=b"{not json", headers=bare)
    assert garbled.status_code == 400 and garbled.json()["error_type"] == "request_malformed"
    invalid = http.post(url, json={"amount": 0, "currency": "HKD"}, headers=bare)
    assert invalid.status_code == 422 and invalid.json()["error_codes"] == ["amount_invalid"]
    assert http.get(f"{found.api_base}/payments/pay_unknown", headers=bare).status_code == 404
    assert http.post(url, content=b"x" * (1024 * 1024 + 1), headers=bare).status_code == 413
