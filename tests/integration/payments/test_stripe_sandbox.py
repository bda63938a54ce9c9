"""Stripe against a real localstripe per tenant, started by backend/sandbox/stripe_server.py.

The browser's part (Stripe.js confirming with the publishable key and the client secret)
is sent here as Stripe.js sends it; test_stripe_js_flow.py drives the real page script.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)
from backend.integrations.payments.stripe.adapter import StripeAdapter
from tests.integration.payments.conftest import ROOT, Received, free_port

ADAPTER = StripeAdapter()
VISA = "4242424242424242"
DECLINED = "4000000000000002"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def checkout_request(tenant, **overrides) -> CheckoutRequest:
    payment_id = str(uuid.uuid4())
    values = dict(
        payment_id=payment_id,
        idempotency_key=f"checkout-{payment_id}",
        amount_minor=12345,
        currency="HKD",
        description="Parcel WB123456789HK",
        order_reference="ORD-2001",
        customer_email="amy@example.com",
        locale="en",
        return_url="http://127.0.0.1:3000/pay/receipt",
        cancel_url="http://127.0.0.1:3000/pay/cancelled",
        notify_url=f"http://127.0.0.1:3000/webhooks/payments/stripe/{tenant.slug}",
    )
    values.update(overrides)
    return CheckoutRequest(**values)


def pay_like_stripe_js(http: httpx.Client, tenant, checkout, number: str = VISA):
    """What Stripe.js posts for confirmCardPayment: publishable key, client secret, the card."""
    fields = checkout.client_fields
    return http.post(
        f"{tenant.account.api_base}/v1/payment_intents/{checkout.provider_reference}/confirm",
        data={
            "key": fields["publishable_key"],
            "client_secret": fields["client_secret"],
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": "2030",
            "payment_method_data[card][cvc]": "123",
        },
    )


def webhook(receiver, tenant, event_type: str, about: str) -> Received:
    """The first delivery to `tenant` of an event of `event_type` about intent `about`."""

    def match(hit: Received) -> bool:
        if hit.path != tenant.webhook_path:
            return False
        event = hit.json()
        obj = event["data"]["object"]
        return event["type"] == event_type and about in (obj.get("id"), obj.get("payment_intent"))

    return receiver.wait_for(match)


def verified(hit: Received, tenant, http: httpx.Client):
    (event,) = ADAPTER.verify_webhook(hit.headers, hit.body, tenant.account, hit.arrived_at, http)
    return event


def test_card_payment_webhook_refunds_and_one_refund_per_key(
    stripe_tenants, webhook_receiver, http
):
    east = stripe_tenants["stripe-east"]
    request = checkout_request(east)
    checkout = ADAPTER.create_checkout(request, east.account, http)
    assert checkout.provider_reference.startswith("pi_") and checkout.redirect_url == ""
    assert checkout.client_fields["js_url"] == f"{east.account.api_base}/js.stripe.com/v3/"

    confirmed = pay_like_stripe_js(http, east, checkout)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"

    hit = webhook(webhook_receiver, east, "payment_intent.succeeded", checkout.provider_reference)
    assert hit.headers["Stripe-Signature"].startswith("t=")
    event = verified(hit, east, http)
    assert event.payment_status is P.SUCCEEDED
    assert event.merchant_reference == request.payment_id
    assert (event.amount_minor, event.currency) == (12345, "HKD")

    payment = ADAPTER.fetch_payment(checkout.provider_reference, east.account, http)
    assert (payment.status, payment.amount_minor, payment.refunds) == (P.SUCCEEDED, 12345, [])

    refund_id = str(uuid.uuid4())
    args = (checkout.provider_reference, 2000, "HKD", refund_id, f"refund-{refund_id}")
    first = ADAPTER.refund(*args, east.account, http)
    assert (first.status, first.amount_minor, first.merchant_reference) == (
        R.SUCCEEDED,
        2000,
        refund_id,
    )
    refund_event = verified(
        webhook(webhook_receiver, east, "refund.created", first.refund_reference), east, http
    )
    assert refund_event.refund_status is R.SUCCEEDED
    assert refund_event.refund_reference == first.refund_reference
    assert refund_event.merchant_reference == refund_id
    assert refund_event.provider_reference == checkout.provider_reference

    again = ADAPTER.refund(*args, east.account, http)  # a retry with the same key
    assert again == first
    payment = ADAPTER.fetch_payment(checkout.provider_reference, east.account, http)
    assert [(r.refund_reference, r.amount_minor) for r in payment.refunds] == [
        (first.refund_reference, 2000)
    ]

    with pytest.raises(ProviderRejected, match="amount_too_large"):
        ADAPTER.refund(
            checkout.provider_reference,
            10346,
            "HKD",
            "r-too-much",
            "k-too-much",
            east.account,
            http,
        )
    rest = ADAPTER.refund(
        checkout.provider_reference, 10345, "HKD", "r-rest", "k-rest", east.account, http
    )
    assert rest.status is R.SUCCEEDED
    with pytest.raises(ProviderRejected, match="charge_already_refunded"):
        ADAPTER.refund(
            checkout.provider_reference, 1, "HKD", "r-more", "k-more", east.account, http
        )


def test_declined_card_fails_and_another_card_may_still_pay(stripe_tenants, webhook_receiver, http):
    east = stripe_tenants["stripe-east"]
    checkout = ADAPTER.create_checkout(checkout_request(east), east.account, http)

    declined = pay_like_stripe_js(http, east, checkout, DECLINED)
    assert declined.status_code == 402
    assert declined.json()["error"]["type"] == "card_error"
    assert declined.json()["error"]["message"] == "Your card was declined."
    hit = webhook(
        webhook_receiver, east, "payment_intent.payment_failed", checkout.provider_reference
    )
    event = verified(hit, east, http)
    assert event.payment_status is P.FAILED and "card_declined" in event.failure_reason
    assert ADAPTER.fetch_payment(checkout.provider_reference, east.account, http).status is P.FAILED

    assert pay_like_stripe_js(http, east, checkout, VISA).status_code == 200
    assert (
        ADAPTER.fetch_payment(checkout.provider_reference, east.account, http).status is P.SUCCEEDED
    )


def test_cancelled_intent_reads_as_cancelled(stripe_tenants, webhook_receiver, http):
    """Stripe has no hosted cancel button: `cancel_url` is a link on our own card page and
    sends nothing to Stripe. What Stripe reports is an intent we cancel when we give up."""
    east = stripe_tenants["stripe-east"]
    checkout = ADAPTER.create_checkout(checkout_request(east), east.account, http)
    cancelled = http.post(
        f"{east.account.api_base}/v1/payment_intents/{checkout.provider_reference}/cancel",
        headers={"Authorization": f"Bearer {east.account.secrets['secret_key']}"},
        data={"cancellation_reason": "abandoned"},
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled"
    hit = webhook(webhook_receiver, east, "payment_intent.canceled", checkout.provider_reference)
    assert verified(hit, east, http).payment_status is P.CANCELLED
    assert (
        ADAPTER.fetch_payment(checkout.provider_reference, east.account, http).status is P.CANCELLED
    )
    assert pay_like_stripe_js(http, east, checkout).status_code == 400  # too late to pay


def test_same_idempotency_key_gives_one_payment_intent(stripe_tenants, http):
    east = stripe_tenants["stripe-east"]
    request = checkout_request(east)
    first = ADAPTER.create_checkout(request, east.account, http)
    second = ADAPTER.create_checkout(request, east.account, http)
    assert second.provider_reference == first.provider_reference
    assert second.client_fields == first.client_fields
    listed = http.get(
        f"{east.account.api_base}/v1/payment_intents",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {east.account.secrets['secret_key']}"},
    ).json()["data"]
    mine = [pi for pi in listed if pi["metadata"].get("payment_id") == request.payment_id]
    assert len(mine) == 1

    other_amount = checkout_request(east, idempotency_key=request.idempotency_key, amount_minor=1)
    with pytest.raises(ProviderRejected, match="400"):
        ADAPTER.create_checkout(other_amount, east.account, http)


def test_tenants_see_neither_each_others_keys_nor_webhooks(stripe_tenants, webhook_receiver, http):
    east, west = stripe_tenants["stripe-east"], stripe_tenants["stripe-west"]
    checkout = ADAPTER.create_checkout(checkout_request(west), west.account, http)
    assert pay_like_stripe_js(http, west, checkout).status_code == 200
    hit = webhook(webhook_receiver, west, "payment_intent.succeeded", checkout.provider_reference)
    assert verified(hit, west, http).payment_status is P.SUCCEEDED
    with pytest.raises(WebhookRejected):
        verified(hit, east, http)  # west's webhook, east's secret

    east_keys_on_west = ProviderAccount(
        "stripe", west.account.api_base, east.account.settings, east.account.secrets
    )
    with pytest.raises(ProviderRejected, match="401"):
        ADAPTER.fetch_payment(checkout.provider_reference, east_keys_on_west, http)
    with pytest.raises(ProviderRejected, match="404"):
        ADAPTER.fetch_payment(checkout.provider_reference, east.account, http)
    assert not [
        h
        for h in webhook_receiver.received(east.webhook_path)
        if checkout.provider_reference in h.body.decode()
    ]


def test_webhook_is_retried_until_answered_and_signed_at_each_attempt(
    stripe_tenants, webhook_receiver, http
):
    west = stripe_tenants["stripe-west"]
    webhook_receiver.answer_next(west.webhook_path, 500, times=2)
    checkout = ADAPTER.create_checkout(checkout_request(west), west.account, http)
    assert pay_like_stripe_js(http, west, checkout).status_code == 200

    def third_attempt(hit: Received) -> bool:
        if hit.path != west.webhook_path or checkout.provider_reference not in hit.body.decode():
            return False
        same = [h for h in webhook_receiver.received(west.webhook_path) if h.body == hit.body]
        return len(same) >= 3

    last = webhook_receiver.wait_for(third_attempt)
    assert verified(last, west, http).payment_status is P.SUCCEEDED
    deliveries = http.get(f"{west.account.api_base}/_sandbox/deliveries").json()["deliveries"]
    (delivery,) = [d for d in deliveries if d["event_id"] == json.loads(last.body)["id"]]
    assert [a.get("status") for a in delivery["attempts"]][:3] == [500, 500, 200]


def test_wrong_key_gets_stripes_401_body(stripe_tenants, http):
    east = stripe_tenants["stripe-east"]
    answer = http.get(
        f"{east.account.api_base}/v1/payment_intents/pi_x",
        headers={"Authorization": "Bearer sk_test_guessed_key_123456"},
    )
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and "sk_test_guessed" not in error["message"]
    assert http.get(f"{east.account.api_base}/v1/payment_intents/pi_x").status_code == 401
    wrong_pk = http.post(
        f"{east.account.api_base}/v1/payment_intents/pi_x/confirm", data={"key": "pk_test_other"}
    )
    assert wrong_pk.status_code == 401


def test_bad_input_is_a_stripe_400_never_a_500(stripe_tenants, http):
    east = stripe_tenants["stripe-east"]
    auth = {"Authorization": f"Bearer {east.account.secrets['secret_key']}"}
    checkout = ADAPTER.create_checkout(checkout_request(east), east.account, http)
    base = east.account.api_base
    answers = [
        http.post(
            f"{base}/v1/refunds", headers=auth, data={"payment_intent": checkout.provider_reference}
        ),
        http.get(
            f"{base}/v1/refunds",
            headers=auth,
            params={"payment_intent": checkout.provider_reference},
        ),
        http.post(f"{base}/v1/payment_intents", headers=auth, data={"amount": "lots"}),
        http.post(
            f"{base}/v1/payment_intents",
            headers=auth,
            content=b"\xff\xfe",
        ),
        http.post(f"{base}/v1/payment_intents/{checkout.provider_reference}/confirm", headers=auth),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["type"] == "invalid_request_error"
    too_big = http.post(
        f"{base}/v1/payment_intents", headers=auth, content=b"a=" + b"x" * (1 << 21)
    )
    assert too_big.status_code == 413


def test_a_taken_port_is_refused(stripe_tenants, tmp_path):
    east = stripe_tenants["stripe-east"]
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"stripe": {east.slug: east.record}}))
    second = subprocess.run(
        [sys.executable, "-m", "backend.sandbox.stripe_server", "--port", str(east.port)]
        + ["--tenant", east.slug, "--accounts", str(accounts)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert second.returncode == 2 and b"cannot listen" in second.stderr


def test_unknown_tenant_is_refused_at_start(tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"stripe": {}}))
    refused = subprocess.run(
        [sys.executable, "-m", "backend.sandbox.stripe_server", "--port", str(free_port())]
        + ["--tenant", "nobody", "--accounts", str(accounts)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert refused.returncode == 2 and b"no stripe account for 'nobody'" in refused.stderr


def test_sigint_stops_the_launcher_cleanly(stripe_tenants, services, tmp_path):
    east = stripe_tenants["stripe-east"]
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"stripe": {east.slug: east.record}}))
    port = free_port()
    argv = ["-m", "backend.sandbox.stripe_server", "--port", str(port), "--tenant", east.slug]
    proc = services.start(
        "localstripe-sigint",
        argv + ["--accounts", str(accounts)],
        f"http://127.0.0.1:{port}/_sandbox/health",
    )
    assert services.stop(proc, signal.SIGINT) == 0
