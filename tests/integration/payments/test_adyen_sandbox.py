"""Adyen against the sandbox: a real `python -m backend.sandbox`, the real adapter, real notifications."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.adyen.adapter import AdyenAdapter
from backend.integrations.payments.base import (
    CheckoutRequest,
    PaymentEvent,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.adyen import provision
from tests.integration.payments.conftest import (
    Received,
    Services,
    WebhookReceiver,
    press,
    start_provider_sandbox,
)

TENANTS = ("harbour-express", "pearl-couriers")
ADAPTER = AdyenAdapter()


def hook_path(tenant: str) -> str:
    return f"/webhooks/payments/adyen/{tenant}"


def items(hit: Received) -> list[dict]:
    return [w["NotificationRequestItem"] for w in hit.json()["notificationItems"]]


@dataclass
class AdyenSandbox:
    url: str
    provisions: dict[str, DemoProvision]
    receiver: WebhookReceiver

    def account(self, tenant: str) -> ProviderAccount:
        found = self.provisions[tenant]
        return ProviderAccount("adyen", found.api_base, found.settings, found.secrets)

    def notifications(self, tenant: str, reference: str, event_code: str) -> list[Received]:
        return [
            hit
            for hit in self.receiver.received(hook_path(tenant))
            if any(
                i["eventCode"] == event_code
                and reference in (i["merchantReference"], i.get("originalReference"))
                for i in items(hit)
            )
        ]

    def notification(self, tenant: str, reference: str, event_code: str) -> Received:
        def wanted(hit: Received) -> bool:
            return hit.path == hook_path(tenant) and hit in self.notifications(
                tenant, reference, event_code
            )

        return self.receiver.wait_for(wanted)

    def verified(self, tenant: str, hit: Received) -> list[PaymentEvent]:
        with httpx.Client(trust_env=False) as client:
            return ADAPTER.verify_webhook(
                hit.headers, hit.body, self.account(tenant), hit.arrived_at, client
            )


@pytest.fixture(scope="module")
def sandbox(
    services: Services, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AdyenSandbox:
    url, provisions = start_provider_sandbox(
        services,
        webhook_receiver,
        tmp_path_factory.mktemp("adyen"),
        "adyen",
        provision,
        TENANTS,
        hook_path,
    )
    return AdyenSandbox(url, provisions, webhook_receiver)


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
        locale="en",
        return_url=f"http://127.0.0.1:9/pay/return/{payment_id}",
        cancel_url=f"http://127.0.0.1:9/pay/cancel/{payment_id}",
        notify_url="",
    )


def test_pay_notify_fetch_and_refund_once(sandbox: AdyenSandbox, http: httpx.Client):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    assert checkout.redirect_url.startswith(f"{sandbox.url}/adyen/link/")
    page = http.get(checkout.redirect_url)
    assert page.status_code == 200
    assert "HKD 128.50" in page.text and "Harbour Express" in page.text and "#0abf53" in page.text
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED

    paid = press(http, checkout.redirect_url, "pay")
    assert (paid.status_code, paid.headers["location"]) == (303, request.return_url)

    [event] = sandbox.verified(
        tenant, sandbox.notification(tenant, request.payment_id, "AUTHORISATION")
    )
    assert (event.payment_status, event.merchant_reference) == (P.SUCCEEDED, request.payment_id)
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.SUCCEEDED

    refund_id = str(uuid.uuid4())
    result = ADAPTER.refund(
        event.provider_reference, 5000, "HKD", refund_id, f"rf-{refund_id}", account, http
    )
    assert (result.status, result.amount_minor, result.merchant_reference) == (
        R.PENDING,
        5000,
        refund_id,
    )
    [refunded] = sandbox.verified(tenant, sandbox.notification(tenant, refund_id, "REFUND"))
    assert (refunded.refund_status, refunded.refund_reference) == (
        R.SUCCEEDED,
        result.refund_reference,
    )
    assert (refunded.provider_reference, refunded.merchant_reference) == (
        event.provider_reference,
        refund_id,
    )

    again = ADAPTER.refund(
        event.provider_reference, 5000, "HKD", refund_id, f"rf-{refund_id}", account, http
    )
    assert again == result  # the same answer replayed: nothing more refunded
    time.sleep(0.5)
    assert len(sandbox.notifications(tenant, event.provider_reference, "REFUND")) == 1


def test_a_refund_beyond_the_balance_is_refused_in_its_notification(
    sandbox: AdyenSandbox, http: httpx.Client
):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    press(http, checkout.redirect_url, "pay")
    [paid] = sandbox.verified(
        tenant, sandbox.notification(tenant, request.payment_id, "AUTHORISATION")
    )
    refund_id = str(uuid.uuid4())
    ADAPTER.refund(
        paid.provider_reference, 99999, "HKD", refund_id, f"rf-{refund_id}", account, http
    )
    [refused] = sandbox.verified(tenant, sandbox.notification(tenant, refund_id, "REFUND"))
    assert refused.refund_status is R.FAILED and refused.failure_reason


def test_decline_notifies_a_refused_authorisation_and_leaves_the_link_open(
    sandbox: AdyenSandbox, http: httpx.Client
):
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    declined = press(http, checkout.redirect_url, "decline")
    assert (declined.status_code, declined.headers["location"]) == (303, request.return_url)
    [event] = sandbox.verified(
        tenant, sandbox.notification(tenant, request.payment_id, "AUTHORISATION")
    )
    assert event.payment_status is P.FAILED and event.failure_reason == "Refused"
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED
    assert press(http, checkout.redirect_url, "pay").status_code == 303  # a second try may succeed


def test_cancel_sends_the_shopper_back_and_adyen_says_nothing(
    sandbox: AdyenSandbox, http: httpx.Client
):
    """Pay by Link has no cancel URL: the shopper goes back to returnUrl and no notification follows."""
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    cancelled = press(http, checkout.redirect_url, "cancel")
    assert (cancelled.status_code, cancelled.headers["location"]) == (303, request.return_url)
    time.sleep(0.5)
    assert sandbox.notifications(tenant, request.payment_id, "AUTHORISATION") == []
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.CREATED


def test_one_idempotency_key_makes_one_payment_link(sandbox: AdyenSandbox, http: httpx.Client):
    account = sandbox.account("pearl-couriers")
    request = checkout_request(key=f"idem-{uuid.uuid4()}")
    first = ADAPTER.create_checkout(request, account, http)
    second = ADAPTER.create_checkout(request, account, http)
    assert first == second
    assert ADAPTER.create_checkout(checkout_request(), account, http) != first


def test_another_tenants_notification_is_rejected(sandbox: AdyenSandbox, http: httpx.Client):
    account = sandbox.account("pearl-couriers")
    request = checkout_request()
    checkout = ADAPTER.create_checkout(request, account, http)
    press(http, checkout.redirect_url, "pay")
    hit = sandbox.notification("pearl-couriers", request.payment_id, "AUTHORISATION")
    assert sandbox.verified("pearl-couriers", hit)
    with pytest.raises(WebhookRejected):
        sandbox.verified("harbour-express", hit)


def test_wrong_credentials_and_bad_input_get_adyens_errors(
    sandbox: AdyenSandbox, http: httpx.Client
):
    found = sandbox.provisions["harbour-express"]
    wrong = ProviderAccount(
        "adyen", found.api_base, found.settings, {**found.secrets, "api_key": "AQE-wrong"}
    )
    with pytest.raises(ProviderRejected):
        ADAPTER.create_checkout(checkout_request(), wrong, http)
    url = f"{found.api_base}/v71/paymentLinks"
    headers = {"X-API-Key": found.secrets["api_key"], "Content-Type": "application/json"}
    unauthorized = http.post(url, content=b"{}", headers={"X-API-Key": "nope"})
    assert unauthorized.status_code == 401 and unauthorized.json()["errorType"] == "security"
    garbled = http.post(url, content=b"{not json", headers=headers)
    assert garbled.status_code == 400 and garbled.json()["errorType"] == "validation"
    body = {
        "merchantAccount": found.settings["merchant_account"],
        "reference": "x",
        "amount": {"value": -1},
    }
    invalid = http.post(url, json=body, headers=headers)
    assert invalid.status_code == 422 and invalid.json()["errorCode"] == "137"
    other = {
        **body,
        "merchantAccount": sandbox.provisions["pearl-couriers"].settings["merchant_account"],
    }
    assert http.post(url, json=other, headers=headers).status_code == 403
    huge = http.post(url, content=b"x" * (1024 * 1024 + 1), headers=headers)
    assert huge.status_code == 413
