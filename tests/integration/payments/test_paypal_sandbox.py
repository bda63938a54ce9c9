"""PayPal against the sandbox: a real `python -m backend.sandbox`, the real adapter, real webhooks."""

from __future__ import annotations

import json
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
from backend.integrations.payments.paypal.adapter import PayPalAdapter
from backend.integrations.payments.paypal.auth import TokenCache
from backend.integrations.payments.paypal.signature import CertificateCache
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.paypal import provision
from tests.integration.payments.conftest import (
    Received,
    Services,
    WebhookReceiver,
    start_provider_sandbox,
)

TENANTS = ("harbour-express", "kowloon-couriers", "retry-express")


def hook_path(tenant: str) -> str:
    return f"/webhooks/payments/paypal/{tenant}"


@dataclass
class PayPalSandbox:
    url: str
    provisions: dict[str, DemoProvision]
    receiver: WebhookReceiver

    def account(self, tenant: str) -> ProviderAccount:
        found = self.provisions[tenant]
        return ProviderAccount("paypal", found.api_base, found.settings, found.secrets)

    def webhook(self, tenant: str, event_type: str, resource_id: str = "") -> Received:
        def wanted(hit: Received) -> bool:
            if hit.path != hook_path(tenant):
                return False
            event = hit.json()
            return event["event_type"] == event_type and resource_id in json.dumps(event)

        return self.receiver.wait_for(wanted)


@pytest.fixture(scope="module")
def sandbox(
    services: Services, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> PayPalSandbox:
    url, provisions = start_provider_sandbox(
        services,
        webhook_receiver,
        tmp_path_factory.mktemp("paypal"),
        "paypal",
        provision,
        TENANTS,
        hook_path,
    )
    return PayPalSandbox(url, provisions, webhook_receiver)


@pytest.fixture
def paypal() -> PayPalAdapter:
    return PayPalAdapter(tokens=TokenCache(), certificates=CertificateCache())


def checkout_request(amount_minor: int = 25000, key: str = "") -> CheckoutRequest:
    payment_id = f"pay_{uuid.uuid4()}"
    return CheckoutRequest(
        payment_id=payment_id,
        idempotency_key=key or f"idem-{uuid.uuid4()}",
        amount_minor=amount_minor,
        currency="HKD",
        description="Parcel delivery, Kwun Tong to Sha Tin",
        order_reference="W-2001",
        customer_email="chan@example.com",
        locale="en",
        return_url=f"http://127.0.0.1:3000/pay/return?payment={payment_id}",
        cancel_url=f"http://127.0.0.1:3000/pay/cancel?payment={payment_id}",
        notify_url="http://127.0.0.1:3000/webhooks/payments/paypal/harbour-express",
    )


def press(http: httpx.Client, redirect_url: str, action: str) -> httpx.Response:
    page = http.get(redirect_url)
    assert page.status_code == 200 and "Pay with PayPal" in page.text and "#003087" in page.text
    return http.post(redirect_url, data={"action": action}, follow_redirects=False)


def events_of(
    paypal: PayPalAdapter, hit: Received, account: ProviderAccount, http: httpx.Client
) -> list[PaymentEvent]:
    return paypal.verify_webhook(hit.headers, hit.body, account, hit.arrived_at, http)


def test_pay_capture_and_refund_end_to_end(sandbox: PayPalSandbox, paypal, http):
    tenant = "harbour-express"
    account = sandbox.account(tenant)
    request = checkout_request()
    checkout = paypal.create_checkout(request, account, http)
    assert (
        checkout.redirect_url
        == f"{account.api_base}/checkoutnow?token={checkout.provider_reference}"
    )

    paid = press(http, checkout.redirect_url, "pay")
    assert paid.status_code == 303
    location = urlsplit(paid.headers["location"])
    assert paid.headers["location"].startswith(request.return_url + "&")
    query = parse_qs(location.query)
    assert query["token"] == [checkout.provider_reference] and query["PayerID"][0]

    approved = sandbox.webhook(tenant, "CHECKOUT.ORDER.APPROVED", checkout.provider_reference)
    [event] = events_of(paypal, approved, account, http)
    assert (event.payment_status, event.provider_reference) == (
        P.AUTHORIZED,
        checkout.provider_reference,
    )
    assert event.merchant_reference == request.payment_id and event.amount_minor == 25000
    assert event.event_id.startswith("WH-")
    assert paypal.fetch_payment(checkout.provider_reference, account, http).status is P.AUTHORIZED

    captured = paypal.capture(checkout.provider_reference, f"cap-{uuid.uuid4()}", account, http)
    assert (captured.status, captured.amount_minor, captured.currency) == (
        P.SUCCEEDED,
        25000,
        "HKD",
    )
    completed = sandbox.webhook(tenant, "PAYMENT.CAPTURE.COMPLETED", checkout.provider_reference)
    [event] = events_of(paypal, completed, account, http)
    assert event.payment_status is P.SUCCEEDED
    assert (event.provider_reference, event.merchant_reference) == (
        checkout.provider_reference,
        request.payment_id,
    )
    assert paypal.fetch_payment(checkout.provider_reference, account, http).status is P.SUCCEEDED

    refund_id, key = f"ref_{uuid.uuid4()}", f"rk-{uuid.uuid4()}"
    refund = paypal.refund(checkout.provider_reference, 10000, "HKD", refund_id, key, account, http)
    assert (refund.status, refund.amount_minor, refund.merchant_reference) == (
        R.SUCCEEDED,
        10000,
        refund_id,
    )
    refunded = sandbox.webhook(tenant, "PAYMENT.CAPTURE.REFUNDED", refund.refund_reference)
    [event] = events_of(paypal, refunded, account, http)
    assert (event.refund_status, event.refund_reference) == (R.SUCCEEDED, refund.refund_reference)
    assert (event.merchant_reference, event.amount_minor) == (refund_id, 10000)

    again = paypal.refund(checkout.provider_reference, 10000, "HKD", refund_id, key, account, http)
    assert again.refund_reference == refund.refund_reference
    after = paypal.fetch_payment(checkout.provider_reference, account, http)
    assert [(r.refund_reference, r.amount_minor) for r in after.refunds] == [
        (refund.refund_reference, 10000)
    ]

    rest = paypal.refund(checkout.provider_reference, 15000, "HKD", f"ref_{uuid.uuid4()}", f"rk-{uuid.uuid4()}", account, http)  # fmt: skip
    assert rest.status is R.SUCCEEDED
    with pytest.raises(ProviderRejected, match="CAPTURE_FULLY_REFUNDED"):
        paypal.refund(checkout.provider_reference, 100, "HKD", f"ref_{uuid.uuid4()}", f"rk-{uuid.uuid4()}", account, http)  # fmt: skip


def test_a_declined_instrument_fails_at_capture(sandbox: PayPalSandbox, paypal, http):
    account = sandbox.account("harbour-express")
    request = checkout_request()
    checkout = paypal.create_checkout(request, account, http)
    declined = press(http, checkout.redirect_url, "decline")
    assert declined.status_code == 303 and declined.headers["location"].startswith(
        request.return_url
    )
    failed = paypal.capture(checkout.provider_reference, f"cap-{uuid.uuid4()}", account, http)
    assert (failed.status, failed.amount_minor) == (P.FAILED, 25000)
    # PayPal keeps the order approved (the buyer could pick another instrument): no capture.
    assert paypal.fetch_payment(checkout.provider_reference, account, http).status is P.AUTHORIZED


def test_cancel_returns_to_the_cancel_url(sandbox: PayPalSandbox, paypal, http):
    account = sandbox.account("harbour-express")
    request = checkout_request()
    checkout = paypal.create_checkout(request, account, http)
    cancelled = press(http, checkout.redirect_url, "cancel")
    assert cancelled.status_code == 303
    assert (
        cancelled.headers["location"] == f"{request.cancel_url}&token={checkout.provider_reference}"
    )
    assert paypal.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED
    with pytest.raises(ProviderRejected, match="ORDER_NOT_APPROVED"):
        paypal.capture(checkout.provider_reference, f"cap-{uuid.uuid4()}", account, http)


def test_one_idempotency_key_makes_one_order(sandbox: PayPalSandbox, paypal, http):
    account = sandbox.account("harbour-express")
    request = checkout_request(key=f"idem-{uuid.uuid4()}")
    first = paypal.create_checkout(request, account, http)
    second = PayPalAdapter().create_checkout(request, account, http)  # another process, same key
    assert second.provider_reference == first.provider_reference
    other = paypal.create_checkout(checkout_request(), account, http)
    assert other.provider_reference != first.provider_reference


def test_a_capture_retried_with_its_key_captures_once(sandbox: PayPalSandbox, paypal, http):
    account = sandbox.account("harbour-express")
    checkout = paypal.create_checkout(checkout_request(), account, http)
    press(http, checkout.redirect_url, "pay")
    key = f"cap-{uuid.uuid4()}"
    first = paypal.capture(checkout.provider_reference, key, account, http)
    second = paypal.capture(checkout.provider_reference, key, account, http)
    third = paypal.capture(checkout.provider_reference, f"cap-{uuid.uuid4()}", account, http)
    assert first.status is second.status is third.status is P.SUCCEEDED


def test_another_tenants_webhook_is_rejected(sandbox: PayPalSandbox, paypal, http):
    theirs = sandbox.account("kowloon-couriers")
    checkout = paypal.create_checkout(checkout_request(), theirs, http)
    press(http, checkout.redirect_url, "pay")
    hit = sandbox.webhook(
        "kowloon-couriers", "CHECKOUT.ORDER.APPROVED", checkout.provider_reference
    )
    assert events_of(paypal, hit, theirs, http)[0].payment_status is P.AUTHORIZED
    with pytest.raises(WebhookRejected):
        events_of(paypal, hit, sandbox.account("harbour-express"), http)
    # Their order is not ours to read either.
    with pytest.raises(ProviderRejected):
        paypal.fetch_payment(checkout.provider_reference, sandbox.account("harbour-express"), http)


def test_a_retried_webhook_is_the_same_transmission(sandbox: PayPalSandbox, paypal, http):
    """PayPal retries a transmission as it was first signed: same id, time, signature, bytes."""
    tenant = "retry-express"
    account = sandbox.account(tenant)
    sandbox.receiver.answer_next(hook_path(tenant), 503, times=2)
    checkout = paypal.create_checkout(checkout_request(), account, http)
    press(http, checkout.redirect_url, "pay")

    def three_tries() -> list[Received]:
        hits = [
            h
            for h in sandbox.receiver.received(hook_path(tenant))
            if checkout.provider_reference in h.body.decode()
        ]
        return hits if len(hits) >= 3 else []  # fmt: skip

    sandbox.receiver.wait_for(lambda hit: len(three_tries()) >= 3)
    first, *retries = three_tries()

    def transmission(hit: Received) -> dict[str, str]:
        return {k.lower(): v for k, v in hit.headers.items() if k.lower().startswith("paypal-")}

    assert len(transmission(first)) == 5
    for retry in retries:
        assert retry.body == first.body
        assert transmission(retry) == transmission(first)
    assert events_of(paypal, retries[-1], account, http)[0].payment_status is P.AUTHORIZED


def test_the_sandbox_speaks_paypals_errors(sandbox: PayPalSandbox, http):
    base = sandbox.account("harbour-express").api_base
    wrong = http.post(
        f"{base}/v1/oauth2/token",
        auth=("nobody", "nothing"),
        data={"grant_type": "client_credentials"},
    )
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    found = sandbox.provisions["harbour-express"]
    token = http.post(
        f"{base}/v1/oauth2/token",
        auth=(found.settings["client_id"], found.secrets["client_secret"]),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    orders = f"{base}/v2/checkout/orders"
    assert (
        http.get(f"{orders}/ABC", headers={"Authorization": "Bearer nope"}).json()["name"]
        == "AUTHENTICATION_FAILURE"
    )
    assert http.get(f"{orders}/ABC", headers=bearer).json()["name"] == "RESOURCE_NOT_FOUND"
    for content, status, name in [
        (b'{"intent": ', 400, "INVALID_REQUEST"),
        (b"\xff\xfe", 400, "INVALID_REQUEST"),
        (b"[]", 400, "INVALID_REQUEST"),
        (json.dumps({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "HKD", "value": "1.234"}}]}).encode(), 400, "INVALID_REQUEST"),
        (json.dumps({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "XXX", "value": "1"}}]}).encode(), 422, "UNPROCESSABLE_ENTITY"),
        (b" " * (1024 * 1024 + 1), 413, "INVALID_REQUEST"),
    ]:  # fmt: skip
        answer = http.post(
            orders, content=content, headers={**bearer, "Content-Type": "application/json"}
        )
        assert (answer.status_code, answer.json()["name"]) == (status, name), answer.text
    certificate = http.get(f"{base}/v1/notifications/certs/{found.sandbox_record['cert_id']}")
    assert certificate.status_code == 200 and certificate.text.startswith(
        "-----BEGIN CERTIFICATE-----"
    )
