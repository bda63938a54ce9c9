"""Stripe's adapter: Stripe-Signature over the raw bytes, event mapping, requests through the SDK."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import stripe

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.integrations.payments.registry import get_adapter
from backend.integrations.payments.stripe import codes
from backend.integrations.payments.stripe.adapter import StripeAdapter
from backend.sandbox.stripe_patches import sign_webhook
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo.stripe import provision

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "stripe"
SECRET = "whsec_tenantA0123456789abcdefghijkl"
OTHER_TENANT_SECRET = "whsec_tenantB0123456789abcdefghijkl"
API = "http://stripe.test"
ACCOUNT = ProviderAccount(
    provider="stripe",
    api_base=API,
    settings={"publishable_key": "pk_test_A1", "js_url": f"{API}/js.stripe.com/v3/"},
    secrets={"secret_key": "sk_test_A1", "webhook_secret": SECRET},
)
ADAPTER = StripeAdapter()
NOW = datetime(2026, 12, 2, 8, 0, 0, tzinfo=UTC)
PAYMENT_ID = "0192c0de-0000-7000-8000-000000000001"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def signed(body: bytes, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    """The headers Stripe sends with `body` at `at` (signed by the sandbox's own signer)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign_webhook(secret, body, int(at.timestamp())),
    }


def verify(headers: dict[str, str], body: bytes, *, now: datetime = NOW, account=ACCOUNT):
    with httpx.Client(transport=httpx.MockTransport(_no_network)) as client:
        return ADAPTER.verify_webhook(headers, body, account, now, client)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no HTTP call expected, got {request.method} {request.url}")


# --- webhook authenticity ----------------------------------------------------------------


def test_valid_signature_is_accepted():
    body = fixture("payment_intent_succeeded")
    (event,) = verify(signed(body), body)
    assert event.event_type == "payment_intent.succeeded"
    assert event.payment_status is P.SUCCEEDED


def test_wrong_secret_is_rejected():
    body = fixture("payment_intent_succeeded")
    with pytest.raises(WebhookRejected):
        verify(signed(body, secret="whsec_guessed"), body)


def test_another_tenants_secret_is_rejected():
    body = fixture("payment_intent_succeeded")
    with pytest.raises(WebhookRejected):
        verify(signed(body, secret=OTHER_TENANT_SECRET), body)


def test_one_changed_byte_is_rejected():
    body = fixture("payment_intent_succeeded")
    headers = signed(body)
    tampered = body.replace(b'"amount": 12345', b'"amount": 12346', 1)
    assert tampered != body
    with pytest.raises(WebhookRejected):
        verify(headers, tampered)


def test_missing_signature_header_is_rejected():
    body = fixture("payment_intent_succeeded")
    with pytest.raises(WebhookRejected):
        verify({"Content-Type": "application/json"}, body)


def test_stale_timestamp_is_rejected_even_with_a_good_signature():
    body = fixture("payment_intent_succeeded")
    headers = signed(body, at=NOW - timedelta(seconds=301))
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify(headers, body)


def test_timestamp_within_tolerance_is_accepted_either_way():
    body = fixture("payment_intent_succeeded")
    assert verify(signed(body, at=NOW - timedelta(seconds=299)), body)
    assert verify(signed(body, at=NOW + timedelta(seconds=299)), body)


def test_timestamp_far_ahead_of_arrival_is_rejected():
    body = fixture("payment_intent_succeeded")
    with pytest.raises(WebhookRejected):
        verify(signed(body, at=NOW + timedelta(seconds=301)), body)


def test_replay_from_the_inbox_is_judged_at_its_arrival_time():
    body = fixture("payment_intent_succeeded")
    arrived = NOW - timedelta(days=3)
    assert verify(signed(body, at=arrived), body, now=arrived)


def test_reserialized_body_with_the_same_json_is_rejected():
    """Stripe signs the raw bytes: the same event re-serialized (other spacing) is not proven."""
    body = fixture("payment_intent_succeeded")
    headers = signed(body)
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert json.loads(reserialized) == json.loads(body) and reserialized != body
    with pytest.raises(WebhookRejected):
        verify(headers, reserialized)


def test_signature_of_another_timestamp_is_rejected():
    body = fixture("payment_intent_succeeded")
    good = signed(body)["Stripe-Signature"]
    shifted = good.replace(f"t={int(NOW.timestamp())}", f"t={int(NOW.timestamp()) + 1}")
    with pytest.raises(WebhookRejected):
        verify({"Stripe-Signature": shifted}, body)


def test_any_of_several_v1_signatures_may_match_while_a_secret_rolls():
    body = fixture("payment_intent_succeeded")
    good = signed(body)["Stripe-Signature"]
    stale = signed(body, secret="whsec_old")["Stripe-Signature"].split(",")[1]
    assert verify({"stripe-signature": f"{good.split(',')[0]},{stale},{good.split(',')[1]}"}, body)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=1796198005",
        "v1=" + "0" * 64,
        "t=abc,v1=" + "0" * 64,
        "t=1,t=2,v1=" + "0" * 64,
        "garbage",
        "t=1796198005,v0=" + "0" * 64,
        "t=1796198005,v1=" + "é" * 64,
        "t=1796198005,v1=" + "0" * 5000,
    ],
)
def test_garbled_signature_headers_are_rejected(header):
    with pytest.raises(WebhookRejected):
        verify({"Stripe-Signature": header}, fixture("payment_intent_succeeded"))


def test_account_without_a_webhook_secret_proves_nothing():
    body = fixture("payment_intent_succeeded")
    account = ProviderAccount("stripe", API, secrets={"secret_key": "sk_test_A1"})
    with pytest.raises(WebhookRejected):
        verify(signed(body, secret=""), body, account=account)


def test_naive_arrival_time_is_taken_as_utc():
    body = fixture("payment_intent_succeeded")
    assert verify(signed(body), body, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"{not json",
        b"[1, 2, 3]",
        b'"a string"',
        b'{"object": "event", "id": "evt_1", "type": "x", "data": {"object": "nope"}}',
        b'{"object": "event", "id": 5, "type": "payment_intent.succeeded", "data": {}}',
        b'{"object": "balance", "id": "evt_1"}',
        fixture("event_without_data_object"),
        fixture("payment_intent_succeeded_without_amount"),
        b'{"object": "event", "id": "evt_1", "type": "t", "created": 99999999999999999999, "data": {"object": {}}}',
    ],
)
def test_signed_but_unreadable_bodies_are_rejected(body):
    with pytest.raises(WebhookRejected):
        verify(signed(body), body)


def test_oversized_body_is_rejected_before_anything_else():
    body = b'{"x": "' + b"a" * MAX_WEBHOOK_BYTES + b'"}'
    with pytest.raises(WebhookRejected, match="too large"):
        verify(signed(body), body)


# --- event parsing -----------------------------------------------------------------------


PAYMENT_EVENTS = {
    "payment_intent_succeeded": ("payment_intent.succeeded", P.SUCCEEDED),
    "payment_intent_succeeded_api_2025": ("payment_intent.succeeded", P.SUCCEEDED),
    "payment_intent_payment_failed_card_declined": ("payment_intent.payment_failed", P.FAILED),
    "payment_intent_canceled": ("payment_intent.canceled", P.CANCELLED),
    "payment_intent_requires_action_3ds": ("payment_intent.requires_action", P.PENDING),
    "payment_intent_processing": ("payment_intent.processing", P.PENDING),
    "payment_intent_amount_capturable_updated": (
        "payment_intent.amount_capturable_updated",
        P.AUTHORIZED,
    ),
    "payment_intent_created": ("payment_intent.created", P.CREATED),
}


@pytest.mark.parametrize("name", PAYMENT_EVENTS)
def test_payment_events_carry_our_payment_id_and_status(name):
    body = fixture(name)
    raw = json.loads(body)
    (event,) = verify(signed(body), body)
    assert (event.event_type, event.payment_status) == PAYMENT_EVENTS[name]
    assert event.event_id == raw["id"]
    assert event.provider_reference == raw["data"]["object"]["id"]
    assert event.merchant_reference == raw["data"]["object"]["metadata"]["payment_id"]
    assert event.refund_status is None
    assert event.amount_minor == 12345 and event.currency == "HKD"
    assert event.occurred_at == datetime.fromtimestamp(raw["created"], UTC)


def test_declined_payment_says_why():
    body = fixture("payment_intent_payment_failed_card_declined")
    (event,) = verify(signed(body), body)
    assert event.failure_reason == "card_declined: Your card was declined."


REFUND_EVENTS = {
    "refund_created_partial": ("refund.created", R.SUCCEEDED, 1000),
    "refund_created_pending": ("refund.created", R.PENDING, 2000),
    "refund_updated_succeeded": ("refund.updated", R.SUCCEEDED, 2000),
    "refund_failed": ("refund.failed", R.FAILED, 2000),
    "charge_refund_updated": ("charge.refund.updated", R.SUCCEEDED, 2000),
}


@pytest.mark.parametrize("name", REFUND_EVENTS)
def test_refund_events_carry_the_refund_and_our_refund_id(name):
    body = fixture(name)
    refund = json.loads(body)["data"]["object"]
    (event,) = verify(signed(body), body)
    assert (event.event_type, event.refund_status, event.amount_minor) == REFUND_EVENTS[name]
    assert event.refund_reference == refund["id"]
    assert event.provider_reference == refund["payment_intent"]
    assert event.merchant_reference == refund["metadata"]["refund_id"]
    assert event.payment_status is None


def test_failed_refund_says_why():
    body = fixture("refund_failed")
    (event,) = verify(signed(body), body)
    assert event.failure_reason == "expired_or_canceled_card"


@pytest.mark.parametrize("name", ["charge_refunded_partial", "charge_succeeded_unmapped"])
def test_events_we_do_not_map_are_recorded_without_a_status(name):
    body = fixture(name)
    raw = json.loads(body)
    (event,) = verify(signed(body), body)
    assert event.event_id == raw["id"]
    assert event.payment_status is None and event.refund_status is None
    assert event.provider_reference == raw["data"]["object"]["payment_intent"]


def test_event_of_a_type_stripe_adds_later_is_not_an_error():
    raw = json.loads(fixture("payment_intent_succeeded"))
    raw["type"] = "payment_intent.partially_funded"
    body = json.dumps(raw).encode()
    (event,) = verify(signed(body), body)
    assert event.payment_status is None and event.event_type == "payment_intent.partially_funded"


# --- tables ------------------------------------------------------------------------------


def test_every_intent_status_stripe_documents_is_mapped():
    assert set(codes.INTENT_STATUS) == {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "succeeded",
        "canceled",
    }


def test_every_refund_status_stripe_documents_is_mapped():
    assert codes.REFUND_STATUS == {
        "pending": R.PENDING,
        "requires_action": R.PENDING,
        "succeeded": R.SUCCEEDED,
        "failed": R.FAILED,
        "canceled": R.FAILED,
    }


def test_payment_event_table_matches_the_docs():
    assert codes.PAYMENT_EVENT_STATUS == {
        "payment_intent.created": P.CREATED,
        "payment_intent.processing": P.PENDING,
        "payment_intent.requires_action": P.PENDING,
        "payment_intent.amount_capturable_updated": P.AUTHORIZED,
        "payment_intent.succeeded": P.SUCCEEDED,
        "payment_intent.payment_failed": P.FAILED,
        "payment_intent.canceled": P.CANCELLED,
    }


# --- requests through the SDK, on the httpx client we pass -------------------------------


def intent_json(status: str = "requires_payment_method", **extra) -> dict:
    obj = json.loads(fixture("payment_intent_succeeded_api_2025"))["data"]["object"]
    obj.update(status=status, **extra)
    return obj


def refund_json(**extra) -> dict:
    obj = json.loads(fixture("refund_updated_succeeded"))["data"]["object"]
    obj.update(extra)
    return obj


class Recorder:
    """A MockTransport handler that answers from a list and keeps every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


def run(handler: Recorder, method: str, *args):
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return getattr(ADAPTER, method)(*args, ACCOUNT, client)


def checkout_request(**overrides) -> CheckoutRequest:
    values = dict(
        payment_id=PAYMENT_ID,
        idempotency_key="idem-checkout-1",
        amount_minor=12345,
        currency="HKD",
        description="Parcel WB123",
        order_reference="ORD-1001",
        customer_email="amy@example.com",
        locale="zh-HK",
        return_url="https://portal.test/pay/receipt",
        cancel_url="https://portal.test/pay/cancelled",
        notify_url="https://portal.test/webhooks/payments/stripe/harbour-express",
    )
    values.update(overrides)
    return CheckoutRequest(**values)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_create_checkout_creates_a_payment_intent_with_our_ids_and_key():
    handler = Recorder(intent_json())
    checkout = run(handler, "create_checkout", checkout_request())
    (request,) = handler.requests
    assert (request.method, str(request.url)) == ("POST", f"{API}/v1/payment_intents")
    assert request.headers["Authorization"] == "Bearer sk_test_A1"
    assert request.headers["Idempotency-Key"] == "idem-checkout-1"
    assert form(request) == {
        "amount": "12345",
        "currency": "hkd",
        "payment_method_types[0]": "card",
        "description": "Parcel WB123",
        "metadata[payment_id]": PAYMENT_ID,
        "metadata[order_reference]": "ORD-1001",
    }
    assert checkout.provider_reference == "pi_3QxRealShape0001"
    assert checkout.redirect_url == ""
    assert checkout.client_fields == {
        "publishable_key": "pk_test_A1",
        "client_secret": "pi_3QxRealShape0001_secret_Zx9",
        "js_url": f"{API}/js.stripe.com/v3/",
        "locale": "zh-HK",
    }
    assert stripe.api_key is None  # never the SDK's global key


def test_checkout_without_js_url_setting_uses_stripes_own():
    account = ProviderAccount("stripe", API, {"publishable_key": "pk_1"}, ACCOUNT.secrets)
    with httpx.Client(transport=httpx.MockTransport(Recorder(intent_json()))) as client:
        checkout = ADAPTER.create_checkout(checkout_request(), account, client)
    assert checkout.client_fields["js_url"] == "https://js.stripe.com/v3/"


@pytest.mark.parametrize(
    "overrides",
    [{"amount_minor": 0}, {"amount_minor": -5}, {"currency": "HK"}, {"payment_id": "x" * 501}],
)
def test_bad_checkout_is_refused_before_calling_stripe(overrides):
    with pytest.raises(ProviderRejected):
        run(Recorder(), "create_checkout", checkout_request(**overrides))


def test_checkout_needs_a_publishable_key_before_anything_is_created():
    account = ProviderAccount("stripe", API, {}, ACCOUNT.secrets)
    with (
        httpx.Client(transport=httpx.MockTransport(Recorder())) as client,
        pytest.raises(ProviderRejected, match="publishable_key"),
    ):
        ADAPTER.create_checkout(checkout_request(), account, client)


def test_fetch_payment_reads_the_intent_and_its_refunds():
    handler = Recorder(
        intent_json("succeeded", latest_charge="ch_1"),
        {"object": "list", "data": [refund_json(), refund_json(id="re_2", status="pending")]},
    )
    payment = run(handler, "fetch_payment", "pi_3QxRealShape0001")
    first, second = handler.requests
    assert (first.method, first.url.path) == ("GET", "/v1/payment_intents/pi_3QxRealShape0001")
    assert (second.method, second.url.path) == ("GET", "/v1/refunds")
    assert dict(second.url.params) == {"payment_intent": "pi_3QxRealShape0001", "limit": "100"}
    assert payment.status is P.SUCCEEDED and payment.amount_minor == 12345
    assert payment.currency == "HKD"
    assert [(r.refund_reference, r.status, r.amount_minor) for r in payment.refunds] == [
        ("re_3QxRealShape0001", R.SUCCEEDED, 2000),
        ("re_2", R.PENDING, 2000),
    ]
    assert payment.refunds[0].merchant_reference == "0192c0de-0000-7000-8000-0000000000r9"


def test_fetch_payment_without_a_charge_lists_no_refunds():
    handler = Recorder(intent_json("requires_payment_method", latest_charge=None))
    payment = run(handler, "fetch_payment", "pi_3QxRealShape0001")
    assert len(handler.requests) == 1 and payment.refunds == []
    assert payment.status is P.CREATED


def test_declined_intent_reads_as_failed_until_another_card_is_tried():
    error = {"code": "card_declined", "message": "Your card was declined."}
    handler = Recorder(
        intent_json("requires_payment_method", last_payment_error=error, latest_charge=None)
    )
    assert run(handler, "fetch_payment", "pi_3QxRealShape0001").status is P.FAILED


@pytest.mark.parametrize(
    ("status", "expected"), [(s, codes.INTENT_STATUS[s]) for s in codes.INTENT_STATUS]
)
def test_fetch_payment_maps_every_intent_status(status, expected):
    handler = Recorder(intent_json(status, latest_charge=None))
    assert run(handler, "fetch_payment", "pi_3QxRealShape0001").status is expected


def test_fetch_payment_refuses_a_reference_that_is_not_an_intent():
    with pytest.raises(ProviderRejected):
        run(Recorder(), "fetch_payment", "ch_123")


def test_refund_sends_amount_our_refund_id_and_the_idempotency_key():
    handler = Recorder(refund_json(amount=500, status="pending"))
    result = run(handler, "refund", "pi_3QxRealShape0001", 500, "HKD", "refund-7", "idem-refund-7")
    (request,) = handler.requests
    assert (request.method, request.url.path) == ("POST", "/v1/refunds")
    assert request.headers["Idempotency-Key"] == "idem-refund-7"
    assert form(request) == {
        "payment_intent": "pi_3QxRealShape0001",
        "amount": "500",
        "metadata[refund_id]": "refund-7",
    }
    assert (result.status, result.amount_minor) == (R.PENDING, 500)
    assert result.refund_reference == "re_3QxRealShape0001"


def test_refund_of_a_status_stripe_adds_later_is_pending_not_succeeded():
    handler = Recorder(refund_json(status="in_review"))
    result = run(handler, "refund", "pi_3QxRealShape0001", 500, "HKD", "r", "k")
    assert result.status is R.PENDING


@pytest.mark.parametrize("amount", [0, -1, 1.5])
def test_refund_of_no_money_is_refused_before_calling_stripe(amount):
    with pytest.raises(ProviderRejected):
        run(Recorder(), "refund", "pi_3QxRealShape0001", amount, "HKD", "r", "k")


def test_capture_is_refused_because_stripe_captures_automatically():
    with pytest.raises(ProviderRejected, match="does not capture separately"):
        run(Recorder(), "capture", "pi_3QxRealShape0001", "idem-capture")


# --- errors ------------------------------------------------------------------------------


def stripe_error(status: int, code: str = "x", type_: str = "invalid_request_error"):
    return httpx.Response(status, json={"error": {"type": type_, "code": code, "message": "m"}})


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        stripe_error(429, "rate_limit"),
        stripe_error(500, type_="api_error"),
        stripe_error(503, type_="api_error"),
        httpx.Response(502, text="<html>bad gateway</html>"),
        stripe_error(409, "idempotency_key_in_use"),
    ],
)
def test_transient_failures_are_unavailable(answer):
    with pytest.raises(ProviderUnavailable):
        run(Recorder(answer), "create_checkout", checkout_request())


@pytest.mark.parametrize(
    "answer",
    [
        stripe_error(400, "parameter_invalid_integer"),
        stripe_error(400, "idempotency_error", type_="idempotency_error"),
        stripe_error(401, type_="invalid_request_error"),
        stripe_error(402, "card_declined", type_="card_error"),
        stripe_error(403),
        stripe_error(404, "resource_missing"),
        httpx.Response(302, headers={"Location": "https://elsewhere.test"}),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"id": "pi_1", "object": "payment_intent"}),
        httpx.Response(200, json={**intent_json(), "client_secret": None}),
        httpx.Response(200, json={**intent_json(), "status": "brand_new_status"}),
    ],
)
def test_refusals_and_unreadable_answers_are_rejected(answer):
    with pytest.raises(ProviderRejected):
        run(Recorder(answer), "create_checkout", checkout_request())


def test_error_messages_never_carry_the_secret_key():
    with pytest.raises(ProviderRejected) as refused:
        run(Recorder(stripe_error(401)), "fetch_payment", "pi_1")
    assert "sk_test_A1" not in str(refused.value)


def test_account_api_base_must_be_http():
    account = ProviderAccount("stripe", "file:///etc", ACCOUNT.settings, ACCOUNT.secrets)
    with (
        httpx.Client(transport=httpx.MockTransport(Recorder())) as client,
        pytest.raises(ProviderRejected),
    ):
        ADAPTER.fetch_payment("pi_1", account, client)


# --- registry, capabilities, demo keys ---------------------------------------------------


def test_registry_finds_the_adapter_and_its_capabilities():
    adapter = get_adapter("stripe")
    assert isinstance(adapter, StripeAdapter)
    assert adapter.capabilities.fields_on_our_page is True
    assert adapter.capabilities.capture_after_approval is False
    assert adapter.capabilities.signs_raw_body and adapter.capabilities.signed_timestamp
    assert adapter.webhook_ack.status_code == 200


def tenant(slug: str = "harbour-express", port: int = 8420) -> DemoTenant:
    return DemoTenant(
        slug=slug,
        name="Harbour Express",
        currency="HKD",
        sandbox_url="http://127.0.0.1:8790",
        stripe_url=f"http://127.0.0.1:{port}",
        webhook_url=f"http://127.0.0.1:3000/webhooks/payments/stripe/{slug}",
    )


def test_provision_makes_matching_keys_for_both_sides():
    demo = provision(tenant())
    assert demo.api_base == "http://127.0.0.1:8420"
    assert demo.settings["js_url"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert demo.sandbox_key == "harbour-express"
    record = demo.sandbox_record
    assert record["secret_key"] == demo.secrets["secret_key"]
    assert record["webhook_secret"] == demo.secrets["webhook_secret"]
    assert record["publishable_key"] == demo.settings["publishable_key"]
    assert record["webhook_url"].endswith("/webhooks/payments/stripe/harbour-express")
    assert record["merchant_name"] == "Harbour Express"
    assert demo.secrets["secret_key"].startswith("sk_test_")
    assert demo.settings["publishable_key"].startswith("pk_test_")
    assert demo.secrets["webhook_secret"].startswith("whsec_")
    assert "secret_key" not in demo.settings and "webhook_secret" not in demo.settings


def test_provision_generates_fresh_keys_every_time():
    first, second = provision(tenant()), provision(tenant())
    assert first.secrets["secret_key"] != second.secrets["secret_key"]
    assert first.secrets["webhook_secret"] != second.secrets["webhook_secret"]
    assert first.settings["publishable_key"] != second.settings["publishable_key"]


def test_the_card_component_carries_the_client_fields_and_mounts_the_same_script():
    from portal.components.stripe_card import STRIPE_CARD_JS, stripe_card

    component = stripe_card(
        publishable_key="pk_test_A1",
        client_secret="pi_1_secret_2",
        js_url=f"{API}/js.stripe.com/v3/",
        return_url="/pay/receipt",
    )
    rendered = str(component)
    for attribute in ("data-publishable-key", "data-client-secret", "data-js-url"):
        assert attribute in rendered
    hooks = "".join(component._get_all_hooks())
    assert "_call_script" in hooks and "waybillStripeCard.mount" in hooks
    assert "confirmCardPayment" in STRIPE_CARD_JS
