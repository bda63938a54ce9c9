"""Checkout.com's adapter: Cko-Signature over the raw body, created_on tolerance, hosted pages, refunds."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments import registry
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.integrations.payments.checkout import codes
from backend.integrations.payments.checkout.adapter import CheckoutAdapter
from backend.integrations.payments.checkout.webhooks import TOLERANCE, sign
from backend.sandbox.payments import checkout as sandbox
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo import checkout as demo

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "checkout"
SECRET = "whsk_7f1c2e9a4b6d8f0a1c3e5b7d9f2a4c6e"
OTHER_SECRET = "whsk_pearl_couriers_0a9b8c7d6e5f"
ACCOUNT = ProviderAccount(
    provider="checkout",
    api_base="http://psp.test/checkout",
    settings={"processing_channel_id": "pc_testchannel", "country": "HK"},
    secrets={"secret_key": "sk_sbox_testsecret", "webhook_secret": SECRET},
)
NOW = datetime(2026, 11, 22, 2, 16, tzinfo=UTC)
ADAPTER = CheckoutAdapter()
NO_CALLS = httpx.Client(
    transport=httpx.MockTransport(lambda r: httpx.Response(599)), trust_env=False
)
PAYMENT_ID = "0b4f6a52-6c1e-4a8e-9d59-5b8d1f6f2c10"
PAY = "pay_mbabizu24mvu3mela5njyhpit4"

# The tables of docs/payments/checkout.md, written out again so that a slip in codes.py shows.
DOCUMENTED_PAYMENT_EVENTS = {
    "payment_pending": P.PENDING,
    "payment_approved": P.AUTHORIZED,
    "payment_captured": P.SUCCEEDED,
    "payment_paid": P.SUCCEEDED,
    "payment_declined": P.FAILED,
    "payment_authentication_failed": P.FAILED,
    "payment_capture_declined": P.FAILED,
    "payment_expired": P.CANCELLED,
    "payment_canceled": P.CANCELLED,
    "payment_voided": P.CANCELLED,
}
DOCUMENTED_REFUND_EVENTS = {
    "payment_refund_pending": R.PENDING,
    "payment_refunded": R.SUCCEEDED,
    "payment_refund_declined": R.FAILED,
}
DOCUMENTED_STATUSES = {
    "Pending": P.PENDING,
    "Authorized": P.AUTHORIZED,
    "Card Verified": P.AUTHORIZED,
    "Retry Scheduled": P.PENDING,
    "Partially Captured": P.SUCCEEDED,
    "Captured": P.SUCCEEDED,
    "Paid": P.SUCCEEDED,
    "Partially Refunded": P.SUCCEEDED,
    "Refunded": P.SUCCEEDED,
    "Declined": P.FAILED,
    "Voided": P.CANCELLED,
    "Canceled": P.CANCELLED,
    "Expired": P.CANCELLED,
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "Cko-Signature": sign(secret, body)}


def verify(body: bytes, headers: dict[str, str] | None = None, now: datetime = NOW):
    headers = signed(body) if headers is None else headers
    return ADAPTER.verify_webhook(headers, body, ACCOUNT, now, NO_CALLS)


# --- webhook authenticity -------------------------------------------------------------


def test_a_webhook_signed_with_the_tenants_key_is_accepted():
    [event] = verify(fixture("payment_approved.json"))
    assert event.event_id == "evt_az5sblvku4ge3dwpztvyizgcau"
    assert event.payment_status is P.AUTHORIZED
    assert event.provider_reference == PAY
    assert event.merchant_reference == PAYMENT_ID
    assert event.occurred_at == datetime(2026, 11, 22, 2, 15, 4, 123456, tzinfo=UTC)


def test_the_signature_is_the_hex_hmac_of_the_raw_body():
    body = fixture("payment_approved.json")
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == expected == sandbox.signature(SECRET, body)
    assert verify(body, {"cko-signature": expected.upper()})  # any header casing, any hex casing


def test_a_wrong_secret_is_rejected():
    body = fixture("payment_approved.json")
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(body, signed(body, "whsk_wrong"))


def test_another_tenants_webhook_is_rejected():
    body = fixture("payment_captured_octopus.json")
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(body, signed(body, OTHER_SECRET))


def test_one_changed_byte_is_rejected():
    body = fixture("payment_refunded.json")
    headers = signed(body)
    for position in (0, len(body) // 2, body.index(b"5000"), len(body) - 1):
        changed = bytearray(body)
        changed[position] ^= 0x01
        with pytest.raises(WebhookRejected, match="bad signature"):
            verify(bytes(changed), headers)


def test_a_missing_or_garbled_signature_header_is_rejected():
    body = fixture("payment_approved.json")
    with pytest.raises(WebhookRejected, match="missing Cko-Signature"):
        verify(body, {"Content-Type": "application/json"})
    with pytest.raises(WebhookRejected, match="garbled"):
        verify(body, {"Cko-Signature": "sha256=" + sign(SECRET, body)})


def test_a_stale_event_is_rejected_even_with_a_good_signature():
    """The signature covers created_on, so the clock can be held: retries (about 30 hours of them)
    pass, an event older than 72 hours does not, nor one dated in the future."""
    body = fixture("payment_approved.json")
    assert verify(body, now=NOW + timedelta(hours=30))
    assert verify(body, now=NOW + TOLERANCE - timedelta(minutes=2))
    with pytest.raises(WebhookRejected, match="stale"):
        verify(body, now=NOW + TOLERANCE + timedelta(minutes=1))
    with pytest.raises(WebhookRejected, match="future"):
        verify(body, now=NOW - timedelta(minutes=10))


def test_a_replay_from_the_inbox_is_checked_as_of_its_arrival():
    body = fixture("payment_approved.json")
    arrived = NOW.replace(tzinfo=None)  # our naive times are UTC
    assert verify(body, now=arrived)[0].event_id == "evt_az5sblvku4ge3dwpztvyizgcau"


def test_a_reserialized_body_is_rejected():
    """Checkout.com signs the raw bytes: the same JSON written differently is not what it signed."""
    body = fixture("payment_approved.json")
    headers = signed(body)
    for same_json in (
        json.dumps(json.loads(body)).encode(),
        json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode(),
        body + b"\n",
    ):
        assert json.loads(same_json) == json.loads(body)
        with pytest.raises(WebhookRejected, match="bad signature"):
            verify(same_json, headers)
    assert ADAPTER.capabilities.signs_raw_body and ADAPTER.capabilities.signed_timestamp


def _signed_document(document: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    return body, signed(body)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"id": "evt_a", "type": "payment_approved", "created_on": "2026-11-22T02:15:04Z"},
        {"id": "evt_a", "type": "payment_approved", "data": {"id": PAY}},
        {"id": "act_a", "type": "payment_approved", "created_on": "2026-11-22T02:15:04Z", "data": {"id": PAY}},
        {"id": "evt_a", "type": 7, "created_on": "2026-11-22T02:15:04Z", "data": {"id": PAY}},
        {"id": "evt_a", "type": "payment_approved", "created_on": "yesterday", "data": {"id": PAY}},
        {"id": "evt_a", "type": "payment_approved", "created_on": "2026-11-22T02:15:04", "data": {"id": PAY}},
        {"id": "evt_a", "type": "payment_approved", "created_on": "2026-11-22T02:15:04Z", "data": {}},
        {"id": "evt_\u0000", "type": "payment_approved", "created_on": "2026-11-22T02:15:04Z", "data": {"id": PAY}},
        {"id": "evt_a", "type": "payment_approved", "created_on": "2026-11-22T02:15:04Z",
         "data": {"id": PAY, "amount": "12850"}},
    ],
    ids=[
        "array", "no-data", "no-created-on", "not-evt", "type-number", "created-on-text",
        "created-on-naive", "data-without-id", "nul", "amount-text",
    ],
)  # fmt: skip
def test_signed_but_malformed_events_are_webhook_rejected(document: Any):
    body, headers = _signed_document(document)
    with pytest.raises(WebhookRejected):
        verify(body, headers)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe{}", b"[" * 100_000, b" " * (256 * 1024 + 1)],
    ids=["empty", "text", "not-utf8", "deep-nesting", "oversized"],
)
def test_unreadable_signed_bodies_are_webhook_rejected(body: bytes):
    with pytest.raises(WebhookRejected):
        verify(body, signed(body))


def test_random_corruption_only_ever_raises_webhook_rejected():
    body = fixture("payment_refunded.json")
    rng = random.Random(11)
    for _ in range(300):
        mutated = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        headers = signed(bytes(mutated)) if rng.random() < 0.5 else signed(body)
        with contextlib.suppress(WebhookRejected):
            verify(bytes(mutated), headers)


def test_an_account_without_a_webhook_secret_rejects_everything():
    body = fixture("payment_approved.json")
    account = ProviderAccount("checkout", ACCOUNT.api_base, ACCOUNT.settings, {"secret_key": "sk"})
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        ADAPTER.verify_webhook(signed(body, ""), body, account, NOW, NO_CALLS)


# --- reading events -------------------------------------------------------------------


def test_the_tables_are_the_documented_ones():
    assert codes.PAYMENT_EVENTS == DOCUMENTED_PAYMENT_EVENTS
    assert codes.REFUND_EVENTS == DOCUMENTED_REFUND_EVENTS
    assert codes.PAYMENT_STATUS == DOCUMENTED_STATUSES


@pytest.mark.parametrize(
    "event_type", sorted({**DOCUMENTED_PAYMENT_EVENTS, **DOCUMENTED_REFUND_EVENTS})
)
def test_every_mapped_event_type_is_read(event_type: str):
    data = {"id": PAY, "action_id": "act_x", "amount": 700, "currency": "HKD", "reference": PAYMENT_ID,
            "response_summary": "Declined - Do not honour"}  # fmt: skip
    headers, body = sandbox.build_webhook(
        {"webhook_signature_key": SECRET}, event_type, data, created_on=NOW
    )
    [event] = verify(body, headers)
    assert event.payment_status is DOCUMENTED_PAYMENT_EVENTS.get(event_type)
    assert event.refund_status is DOCUMENTED_REFUND_EVENTS.get(event_type)
    assert (event.event_type, event.amount_minor, event.currency) == (event_type, 700, "HKD")
    assert event.refund_reference == ("act_x" if event_type in DOCUMENTED_REFUND_EVENTS else "")
    failed = P.FAILED in (event.payment_status, event.refund_status)
    assert event.failure_reason == ("Declined - Do not honour" if failed else "")


def test_a_refund_event_names_the_payment_the_action_and_our_refund_id():
    [event] = verify(fixture("payment_refunded.json"))
    assert (event.refund_status, event.payment_status) == (R.SUCCEEDED, None)
    assert event.provider_reference == PAY
    assert event.refund_reference == "act_7uyyvndhm3jezcnlwxq6xbmmoa"
    assert event.merchant_reference == "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61"
    [declined] = verify(fixture("payment_refund_declined.json"))
    assert declined.refund_status is R.FAILED and declined.failure_reason == "Insufficient Funds"


def test_declined_and_octopus_payments_are_read():
    [declined] = verify(fixture("payment_declined.json"))
    assert declined.payment_status is P.FAILED
    assert declined.failure_reason == "Declined - Do not honour"
    [captured] = verify(fixture("payment_captured_octopus.json"))
    assert captured.payment_status is P.SUCCEEDED
    assert ADAPTER.capabilities.methods == ("card", "octopus")


def test_an_unmapped_event_type_is_read_with_no_status():
    [event] = verify(fixture("dispute_received_unmapped.json"))
    assert event.event_type == "dispute_received"
    assert (event.payment_status, event.refund_status) == (None, None)


# --- API calls ------------------------------------------------------------------------


def checkout_request(**overrides: Any) -> CheckoutRequest:
    fields = {
        "payment_id": PAYMENT_ID,
        "idempotency_key": "pay-0b4f6a52-attempt",
        "amount_minor": 12850,
        "currency": "hkd",
        "description": "Waybill order WB-1042",
        "order_reference": "WB-1042",
        "customer_email": "mei@example.com",
        "locale": "zh-HK",
        "return_url": f"https://waybill.example/pay/return/{PAYMENT_ID}",
        "cancel_url": f"https://waybill.example/pay/cancel/{PAYMENT_ID}",
        "notify_url": "https://waybill.example/webhooks/payments/checkout/harbour-express",
    }
    return CheckoutRequest(**{**fields, **overrides})


def routed(routes: dict[str, tuple[int, bytes]], seen: list[httpx.Request]) -> httpx.Client:
    """A client whose answers are chosen by "METHOD /path"; anything else is a 404."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = routes.get(f"{request.method} {request.url.path}", (404, b""))
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_create_checkout_sends_a_hosted_payments_request():
    seen: list[httpx.Request] = []
    client = routed(
        {"POST /checkout/hosted-payments": (201, fixture("hosted_payment_created.json"))}, seen
    )
    checkout = ADAPTER.create_checkout(checkout_request(), ACCOUNT, client)
    assert checkout.provider_reference == "hpp_xTYoEjCtFSzX"
    assert checkout.redirect_url == "https://pay.sandbox.checkout.com/page/hpp_xTYoEjCtFSzX"
    [sent] = seen
    assert sent.headers["Authorization"] == "Bearer sk_sbox_testsecret"
    assert sent.headers["Cko-Idempotency-Key"] == "pay-0b4f6a52-attempt"
    body = json.loads(sent.content)
    assert (body["amount"], body["currency"], body["reference"]) == (12850, "HKD", PAYMENT_ID)
    assert (
        body["success_url"]
        == body["failure_url"]
        == f"https://waybill.example/pay/return/{PAYMENT_ID}"
    )
    assert body["cancel_url"] == f"https://waybill.example/pay/cancel/{PAYMENT_ID}"
    assert body["billing"] == {"address": {"country": "HK"}}
    assert body["processing_channel_id"] == "pc_testchannel"
    assert body["allow_payment_methods"] == ["card", "octopus"]
    assert body["locale"] == "zh-HK" and body["customer"] == {"email": "mei@example.com"}


def test_fetch_by_payment_id_reads_the_payment_and_its_refunds():
    seen: list[httpx.Request] = []
    client = routed(
        {
            f"GET /checkout/payments/{PAY}": (
                200,
                fixture("payment_details_partially_refunded.json"),
            ),
            f"GET /checkout/payments/{PAY}/actions": (200, fixture("payment_actions.json")),
        },
        seen,
    )
    payment = ADAPTER.fetch_payment(PAY, ACCOUNT, client)
    assert (payment.provider_reference, payment.status) == (PAY, P.SUCCEEDED)
    assert (payment.amount_minor, payment.currency) == (12850, "HKD")
    assert [(r.refund_reference, r.status, r.amount_minor) for r in payment.refunds] == [
        ("act_7uyyvndhm3jezcnlwxq6xbmmoa", R.SUCCEEDED, 5000),
        ("act_q2oa7mvl3cbehb6wbgy4p5gxwy", R.FAILED, 99999),
    ]
    assert payment.refunds[0].merchant_reference == "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61"
    assert all(r.headers["Authorization"] == "Bearer sk_sbox_testsecret" for r in seen)


def test_fetch_by_hosted_page_id_finds_the_payment_by_our_reference():
    seen: list[httpx.Request] = []
    client = routed(
        {
            "GET /checkout/hosted-payments/hpp_xTYoEjCtFSzX": (
                200,
                fixture("hosted_payment_pending.json"),
            ),
            "GET /checkout/payments": (
                200,
                fixture("payments_by_reference_decline_then_capture.json"),
            ),
            f"GET /checkout/payments/{PAY}/actions": (200, b"[]"),
        },
        seen,
    )
    payment = ADAPTER.fetch_payment("hpp_xTYoEjCtFSzX", ACCOUNT, client)
    assert (payment.provider_reference, payment.status) == (
        PAY,
        P.SUCCEEDED,
    )  # the capture beats the decline
    listed = next(r for r in seen if r.url.path == "/checkout/payments")
    assert listed.url.params["reference"] == PAYMENT_ID


def test_fetch_by_hosted_page_id_before_anyone_paid_says_created():
    client = routed(
        {
            "GET /checkout/hosted-payments/hpp_xTYoEjCtFSzX": (
                200,
                fixture("hosted_payment_pending.json"),
            ),
            "GET /checkout/payments": (200, fixture("payments_by_reference_none.json")),
        },
        [],
    )
    payment = ADAPTER.fetch_payment("hpp_xTYoEjCtFSzX", ACCOUNT, client)
    assert (payment.provider_reference, payment.status, payment.amount_minor) == (
        "hpp_xTYoEjCtFSzX",
        P.CREATED,
        12850,
    )


def test_refund_posts_amount_and_our_refund_id_with_the_idempotency_key():
    seen: list[httpx.Request] = []
    client = routed(
        {f"POST /checkout/payments/{PAY}/refunds": (202, fixture("refund_accepted.json"))}, seen
    )
    result = ADAPTER.refund(
        PAY, 5000, "HKD", "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61", "refund-key-1", ACCOUNT, client
    )
    assert (result.refund_reference, result.status, result.amount_minor) == (
        "act_7uyyvndhm3jezcnlwxq6xbmmoa", R.PENDING, 5000,
    )  # fmt: skip
    assert result.merchant_reference == "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61"
    [sent] = seen
    assert sent.headers["Cko-Idempotency-Key"] == "refund-key-1"
    assert json.loads(sent.content) == {
        "amount": 5000,
        "reference": "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61",
    }


def test_refund_by_hosted_page_id_refunds_the_payment_made_on_it():
    seen: list[httpx.Request] = []
    client = routed(
        {
            "GET /checkout/hosted-payments/hpp_xTYoEjCtFSzX": (
                200,
                fixture("hosted_payment_pending.json"),
            ),
            "GET /checkout/payments": (
                200,
                fixture("payments_by_reference_decline_then_capture.json"),
            ),
            f"POST /checkout/payments/{PAY}/refunds": (202, fixture("refund_accepted.json")),
        },
        seen,
    )
    ADAPTER.refund("hpp_xTYoEjCtFSzX", 5000, "HKD", "r1", "k1", ACCOUNT, client)
    assert seen[-1].url.path == f"/checkout/payments/{PAY}/refunds"


def test_refund_of_a_page_nobody_paid_on_or_of_nothing_is_refused():
    client = routed(
        {
            "GET /checkout/hosted-payments/hpp_xTYoEjCtFSzX": (
                200,
                fixture("hosted_payment_pending.json"),
            ),
            "GET /checkout/payments": (200, fixture("payments_by_reference_none.json")),
        },
        [],
    )
    with pytest.raises(ProviderRejected, match="no payment"):
        ADAPTER.refund("hpp_xTYoEjCtFSzX", 5000, "HKD", "r1", "k1", ACCOUNT, client)
    with pytest.raises(ProviderRejected, match="positive"):
        ADAPTER.refund(PAY, 0, "HKD", "r1", "k1", ACCOUNT, client)
    with pytest.raises(ProviderRejected, match="pay_"):
        ADAPTER.fetch_payment("../admin", ACCOUNT, client)


def test_capture_is_not_a_separate_step():
    with pytest.raises(ProviderRejected, match="does not capture separately"):
        ADAPTER.capture(PAY, "k", ACCOUNT, NO_CALLS)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, b"{}", ProviderUnavailable),
        (502, b"", ProviderUnavailable),
        (429, b"", ProviderUnavailable),
        (401, b"", ProviderRejected),
        (404, b"", ProviderRejected),
        (422, fixture("validation_error.json"), ProviderRejected),
        (201, b"<html>oops</html>", ProviderRejected),
        (201, b'{"id": "hpp_x", "_links": {}}', ProviderRejected),
        (201, b'{"id": "pay_x", "_links": {"redirect": {"href": "https://x"}}}', ProviderRejected),
    ],
)
def test_errors_map_onto_our_tree(status: int, body: bytes, error: type[Exception]):
    client = routed({"POST /checkout/hosted-payments": (status, body)}, [])
    with pytest.raises(error):
        ADAPTER.create_checkout(checkout_request(), ACCOUNT, client)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_transport_failures_are_unavailable(failure: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(ProviderUnavailable):
        ADAPTER.fetch_payment(PAY, ACCOUNT, client)


def test_an_unknown_payment_status_is_refused():
    details = json.loads(fixture("payment_details_partially_refunded.json"))
    details["status"] = "Teleported"
    client = routed(
        {
            f"GET /checkout/payments/{PAY}": (200, json.dumps(details).encode()),
            f"GET /checkout/payments/{PAY}/actions": (200, b"[]"),
        },
        [],
    )
    with pytest.raises(ProviderRejected, match="unknown status"):
        ADAPTER.fetch_payment(PAY, ACCOUNT, client)


# --- wiring ---------------------------------------------------------------------------


def test_the_registry_loads_the_adapter():
    adapter = registry.get_adapter("checkout")
    assert isinstance(adapter, CheckoutAdapter) and adapter.webhook_ack.status_code == 200


def test_provision_makes_fresh_keys_that_verify_the_sandboxs_webhooks():
    tenant = DemoTenant(
        "harbour-express", "Harbour Express", "HKD", "http://127.0.0.1:8790", "",
        "http://127.0.0.1:3000/webhooks/payments/checkout/harbour-express",
    )  # fmt: skip
    first, second = demo.provision(tenant), demo.provision(tenant)
    assert first.secrets["secret_key"] != second.secrets["secret_key"]
    assert (
        first.secrets["secret_key"].startswith("sk_sbox_")
        and len(first.secrets["secret_key"]) == 35
    )
    assert first.api_base == "http://127.0.0.1:8790/checkout"
    assert first.sandbox_key == first.settings["processing_channel_id"]
    assert first.sandbox_record["webhook_url"] == tenant.webhook_url
    assert first.sandbox_record["merchant_name"] == "Harbour Express"
    headers, body = sandbox.build_webhook(
        first.sandbox_record, "payment_captured", {"id": PAY}, created_on=NOW
    )
    ours = ProviderAccount("checkout", first.api_base, first.settings, first.secrets)
    assert (
        ADAPTER.verify_webhook(headers, body, ours, NOW, NO_CALLS)[0].payment_status is P.SUCCEEDED
    )
    theirs = ProviderAccount("checkout", second.api_base, second.settings, second.secrets)
    with pytest.raises(WebhookRejected):
        ADAPTER.verify_webhook(headers, body, theirs, NOW, NO_CALLS)
