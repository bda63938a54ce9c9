"""Adyen's adapter: every notification item's HMAC, Pay by Link requests, refunds and the error map."""

from __future__ import annotations

import base64
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
from backend.integrations.payments.adyen import codes
from backend.integrations.payments.adyen.adapter import AdyenAdapter
from backend.integrations.payments.adyen.notifications import signing_string
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.sandbox.payments import adyen as sandbox
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo import adyen as demo

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "adyen"
MERCHANT = "WaybillHarbourExpressECOM"
HMAC_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
OTHER_KEY = "0F3E5C1A9B7D2E4F6A8C0B1D3E5F7A9C2B4D6E8F0A1C3E5F7B9D1A3C5E7F9B2D"
ACCOUNT = ProviderAccount(
    provider="adyen",
    api_base="http://psp.test/adyen",
    settings={"merchant_account": MERCHANT, "country": "HK"},
    secrets={"api_key": "AQEtest-key", "hmac_key": HMAC_KEY},
)
RECORD = {"hmac_key": HMAC_KEY}
NOW = datetime(2026, 11, 22, 2, 16, tzinfo=UTC)
ADAPTER = AdyenAdapter()
# Verification never calls out: a client that would fail loudly if it did (made once: cheap tests).
NO_CALLS = httpx.Client(
    transport=httpx.MockTransport(lambda r: httpx.Response(599)), trust_env=False
)
PAYMENT_ID = "0b4f6a52-6c1e-4a8e-9d59-5b8d1f6f2c10"
SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)

# The tables of docs/payments/adyen.md, written out again so that a slip in codes.py shows.
DOCUMENTED_EVENTS = {
    ("AUTHORISATION", True): (P.SUCCEEDED, None),
    ("AUTHORISATION", False): (P.FAILED, None),
    ("PENDING", True): (P.PENDING, None),
    ("CAPTURE", True): (P.SUCCEEDED, None),
    ("CAPTURE_FAILED", True): (P.FAILED, None),
    ("CANCELLATION", True): (P.CANCELLED, None),
    ("OFFER_CLOSED", True): (P.CANCELLED, None),
    ("REFUND", True): (None, R.SUCCEEDED),
    ("REFUND", False): (None, R.FAILED),
    ("REFUND_FAILED", True): (None, R.FAILED),
    ("REFUNDED_REVERSED", True): (None, R.FAILED),
}
DOCUMENTED_LINKS = {
    "active": P.CREATED,
    "paymentPending": P.PENDING,
    "completed": P.SUCCEEDED,
    "paid": P.SUCCEEDED,
    "expired": P.CANCELLED,
}


def items_of(name: str) -> list[dict[str, Any]]:
    document = json.loads((FIXTURES / name).read_text())
    return [w["NotificationRequestItem"] for w in document["notificationItems"]]


def signed_body(items: list[dict[str, Any]], key: str = HMAC_KEY) -> bytes:
    """A notification as Adyen sends it: each item signed with `key`."""
    return sandbox.build_webhook({"hmac_key": key}, items)[1]


def edited(body: bytes, change) -> bytes:
    """Re-serialize a signed body after `change(item)` on its first item (the signature kept)."""
    document = json.loads(body)
    change(document["notificationItems"][0]["NotificationRequestItem"])
    return json.dumps(document).encode()


def verify(body: bytes, account: ProviderAccount = ACCOUNT, headers: dict | None = None):
    return ADAPTER.verify_webhook(headers or {}, body, account, NOW, NO_CALLS)


# --- webhook authenticity -------------------------------------------------------------


def test_a_notification_signed_with_the_tenants_key_is_accepted():
    [event] = verify(signed_body(items_of("authorisation_success.json")))
    assert event.payment_status is P.SUCCEEDED
    assert event.merchant_reference == PAYMENT_ID
    assert event.provider_reference == "QFQTPCQ8HXSKGK82"
    assert event.event_id == "QFQTPCQ8HXSKGK82:AUTHORISATION:true"


def test_the_sdk_validator_and_the_sandbox_sign_the_documented_string():
    item = items_of("authorisation_success.json")[0]
    text = signing_string(item)
    assert text == (f"QFQTPCQ8HXSKGK82::{MERCHANT}:{PAYMENT_ID}:12850:HKD:AUTHORISATION:true")
    expected = base64.b64encode(
        hmac.new(bytes.fromhex(HMAC_KEY), text.encode(), hashlib.sha256).digest()
    ).decode()
    assert sandbox.item_signature(item, HMAC_KEY) == expected


def test_a_wrong_hmac_key_is_rejected():
    with pytest.raises(WebhookRejected, match="HMAC"):
        verify(signed_body(items_of("authorisation_success.json"), OTHER_KEY))


def test_another_tenants_notification_is_rejected():
    """Another tenant's merchant account, signed with that tenant's own key: both fail here."""
    theirs = items_of("authorisation_success.json")
    theirs[0]["merchantAccountCode"] = "WaybillPearlCouriersECOM"
    with pytest.raises(WebhookRejected, match="another merchant account"):
        verify(signed_body(theirs, OTHER_KEY))
    with pytest.raises(WebhookRejected):
        verify(signed_body(theirs, HMAC_KEY))  # even signed with our key: not our account


@pytest.mark.parametrize("field", SIGNED_FIELDS)
def test_one_changed_character_in_any_signed_field_is_rejected(field: str):
    """Adyen signs fields, not bytes: changing any of the eight signed fields breaks the HMAC."""
    body = signed_body(items_of("refund_success.json"))
    account = ACCOUNT
    if field == "merchantAccountCode":
        # Aimed at an account of that name, so that only the HMAC can refuse it.
        account = ProviderAccount(
            "adyen", ACCOUNT.api_base, {"merchant_account": "X"}, ACCOUNT.secrets
        )

    def change(item: dict) -> None:
        if field in ("value", "currency"):
            item["amount"][field] = 5001 if field == "value" else "HKE"
        elif field == "success":
            item["success"] = "false"
        elif field == "merchantAccountCode":
            item[field] = "X"
        else:
            item[field] = item[field][:-1] + ("X" if item[field][-1] != "X" else "Y")

    with pytest.raises(WebhookRejected, match="bad HMAC"):
        verify(edited(body, change), account)


def test_a_missing_signature_is_rejected():
    """Adyen's signature travels in the body (additionalData.hmacSignature), not in a header."""
    body = signed_body(items_of("authorisation_success.json"))
    for change in (
        lambda item: item["additionalData"].pop("hmacSignature"),
        lambda item: item["additionalData"].update(hmacSignature=""),
        lambda item: item.pop("additionalData"),
    ):
        with pytest.raises(WebhookRejected, match="hmacSignature"):
            verify(edited(body, change))


def test_a_missing_basic_auth_header_is_rejected_when_the_account_has_one():
    account = ProviderAccount(
        "adyen",
        ACCOUNT.api_base,
        ACCOUNT.settings,
        {**ACCOUNT.secrets, "webhook_username": "ws_waybill", "webhook_password": "s3cret"},
    )
    record = {**RECORD, "webhook_username": "ws_waybill", "webhook_password": "s3cret"}
    headers, body = sandbox.build_webhook(record, items_of("authorisation_success.json"))
    assert verify(body, account, headers)
    with pytest.raises(WebhookRejected, match="basic auth"):
        verify(body, account, {})
    with pytest.raises(WebhookRejected, match="basic auth"):
        verify(
            body, account, {"Authorization": "Basic " + base64.b64encode(b"ws_waybill:x").decode()}
        )


def test_one_bad_item_rejects_the_whole_delivery():
    good, refund = items_of("batch_authorisation_and_refund.json")
    assert len(verify(signed_body([good, refund]))) == 2
    body = sandbox.build_webhook(RECORD, [good])[1]
    document = json.loads(body)
    forged = dict(refund, additionalData={"hmacSignature": "AAAA"})
    document["notificationItems"].append({"NotificationRequestItem": forged})
    with pytest.raises(WebhookRejected):
        verify(json.dumps(document).encode())


def test_a_replay_days_later_is_accepted_with_the_same_event_id():
    """Adyen's HMAC covers no time and Adyen re-sends a notification for days, so no clock can
    refuse a replay: the inbox's unique event id (pspReference:eventCode:success) stores it once."""
    body = signed_body(items_of("authorisation_success.json"))
    first = verify(body)
    later = ADAPTER.verify_webhook({}, body, ACCOUNT, NOW + timedelta(days=30), NO_CALLS)
    assert [e.event_id for e in first] == [e.event_id for e in later]
    assert not ADAPTER.capabilities.signed_timestamp


def test_a_reserialized_body_with_the_same_fields_is_accepted_by_design():
    """The signature covers eight fields, not the bytes: other whitespace, key order or unsigned
    fields (eventDate, reason, paymentMethod) still verify. Those fields are read as information
    only; every field that decides a status or a match is signed (shown above)."""
    body = signed_body(items_of("authorisation_success.json"))
    document = json.loads(body)
    pretty = json.dumps(document, indent=2, sort_keys=True).encode()
    assert pretty != body
    assert verify(pretty)[0].payment_status is P.SUCCEEDED
    moved = edited(body, lambda item: item.update(eventDate="2026-11-22T10:20:00+08:00"))
    assert verify(moved)[0].occurred_at == datetime(2026, 11, 22, 2, 20, tzinfo=UTC)
    assert not ADAPTER.capabilities.signs_raw_body


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",
        b"[]",
        b'{"live": "false"}',
        b'{"live": "false", "notificationItems": []}',
        b'{"live": "false", "notificationItems": [{"x": 1}]}',
        b'{"live": true, "notificationItems": [{"NotificationRequestItem": {}}]}',
        b'{"live": "false", "notificationItems": [{"NotificationRequestItem": {"amount": 5}}]}',
        b"[" * 100_000,
        b" " * (256 * 1024 + 1),
    ],
    ids=[
        "empty", "text", "not-utf8", "array", "no-items", "zero-items", "bad-wrapper",
        "live-bool", "amount-number", "deep-nesting", "oversized",
    ],
)  # fmt: skip
def test_unreadable_bodies_are_webhook_rejected(body: bytes):
    with pytest.raises(WebhookRejected):
        verify(body)


def test_wrong_types_and_nul_characters_are_rejected():
    body = signed_body(items_of("authorisation_success.json"))
    for change in (
        lambda item: item.update(success=True),
        lambda item: item.update(pspReference=None),
        lambda item: item.update(merchantReference="a\x00b"),
        lambda item: item.update(reason="unsigned but \x00 all the same"),
        lambda item: item["amount"].update(value="12850"),
        lambda item: item["amount"].update(value=True),
        lambda item: item.update(originalReference=7),
    ):
        with pytest.raises(WebhookRejected):
            verify(edited(body, change))


def test_random_corruption_only_ever_raises_webhook_rejected():
    body = signed_body(items_of("batch_authorisation_and_refund.json"))
    rng = random.Random(5)
    for _ in range(300):
        mutated = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        with contextlib.suppress(WebhookRejected):
            verify(bytes(mutated))


def test_an_account_without_a_usable_hmac_key_rejects_everything():
    body = signed_body(items_of("authorisation_success.json"))
    for key in ("", "not-hex"):
        account = ProviderAccount("adyen", ACCOUNT.api_base, ACCOUNT.settings, {"hmac_key": key})
        with pytest.raises(WebhookRejected, match="HMAC key"):
            verify(body, account)


# --- reading events -------------------------------------------------------------------


def test_the_tables_are_the_documented_ones():
    assert codes.EVENTS == DOCUMENTED_EVENTS
    assert codes.LINK_STATUS == DOCUMENTED_LINKS


@pytest.mark.parametrize(("code", "success"), sorted(DOCUMENTED_EVENTS))
def test_every_mapped_event_code_is_read(code: str, success: bool):
    item = sandbox.make_item(
        MERCHANT, code, "JVBXGSDM53RZNN82", success=success, amount_minor=700,
        merchant_reference=PAYMENT_ID, original_reference="QFQTPCQ8HXSKGK82", reason="Refused",
    )  # fmt: skip
    [event] = verify(signed_body([item]))
    assert (event.payment_status, event.refund_status) == DOCUMENTED_EVENTS[(code, success)]
    assert event.event_type == code
    assert event.amount_minor == 700 and event.currency == "HKD"
    assert event.provider_reference == "QFQTPCQ8HXSKGK82"  # the payment, not the modification
    assert event.failure_reason == ("" if success else "Refused")


def test_a_refund_event_names_the_payment_the_refund_and_our_refund_id():
    [event] = verify(signed_body(items_of("refund_success.json")))
    assert event.refund_status is R.SUCCEEDED and event.payment_status is None
    assert event.provider_reference == "QFQTPCQ8HXSKGK82"
    assert event.refund_reference == "JVBXGSDM53RZNN82"
    assert event.merchant_reference == "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61"
    [refused] = verify(signed_body(items_of("refund_refused.json")))
    assert refused.refund_status is R.FAILED
    assert refused.failure_reason == "Insufficient balance on payment"


def test_cancel_or_refund_follows_its_modification_action():
    [refund] = verify(signed_body(items_of("cancel_or_refund_as_refund.json")))
    assert (refund.payment_status, refund.refund_status) == (None, R.SUCCEEDED)
    assert refund.refund_reference == "ZR4T9B2QK6M8P182"
    cancel = items_of("cancel_or_refund_as_refund.json")
    cancel[0]["additionalData"] = {"modification.action": "cancel"}
    [cancelled] = verify(signed_body(cancel))
    assert (cancelled.payment_status, cancelled.refund_status) == (P.CANCELLED, None)
    cancel[0]["additionalData"] = {}
    [unknown] = verify(signed_body(cancel))
    assert (unknown.payment_status, unknown.refund_status) == (None, None)


def test_an_unmapped_event_code_is_read_with_no_status():
    [event] = verify(signed_body(items_of("chargeback_unmapped.json")))
    assert event.event_type == "CHARGEBACK"
    assert (event.payment_status, event.refund_status) == (None, None)
    assert event.event_id == "C8B2M4X6Z1Q3W582:CHARGEBACK:true"


def test_the_acknowledgement_is_accepted_in_brackets():
    assert ADAPTER.webhook_ack.body == b"[accepted]"
    assert ADAPTER.webhook_ack.status_code == 200


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
        "notify_url": "https://waybill.example/webhooks/payments/adyen/harbour-express",
    }
    return CheckoutRequest(**{**fields, **overrides})


def client_answering(status: int, body: bytes | str, seen: list[httpx.Request]) -> httpx.Client:
    content = body.encode() if isinstance(body, str) else body

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_create_checkout_sends_a_payment_link_request():
    seen: list[httpx.Request] = []
    client = client_answering(201, fixture("payment_link_created.json"), seen)
    checkout = ADAPTER.create_checkout(checkout_request(), ACCOUNT, client)
    assert checkout.provider_reference == "PL61C53A8B97E6915A"
    assert checkout.redirect_url == "https://test.adyen.link/PL61C53A8B97E6915A"
    [sent] = seen
    assert (sent.method, str(sent.url)) == ("POST", "http://psp.test/adyen/v71/paymentLinks")
    assert sent.headers["X-API-Key"] == "AQEtest-key"
    assert sent.headers["Idempotency-Key"] == "pay-0b4f6a52-attempt"
    body = json.loads(sent.content)
    assert body["merchantAccount"] == MERCHANT
    assert body["reference"] == PAYMENT_ID
    assert body["amount"] == {"value": 12850, "currency": "HKD"}
    assert body["returnUrl"] == f"https://waybill.example/pay/return/{PAYMENT_ID}"
    assert body["shopperLocale"] == "zh-TW" and body["shopperEmail"] == "mei@example.com"


def test_a_link_for_another_reference_is_refused():
    seen: list[httpx.Request] = []
    client = client_answering(201, fixture("payment_link_created.json"), seen)
    with pytest.raises(ProviderRejected, match="another reference"):
        ADAPTER.create_checkout(checkout_request(payment_id="someone-else"), ACCOUNT, client)


@pytest.mark.parametrize(
    ("name", "status"),
    [("payment_link_created.json", P.CREATED), ("payment_link_completed.json", P.SUCCEEDED)],
)
def test_fetch_payment_reads_the_link_status(name: str, status: P):
    seen: list[httpx.Request] = []
    payment = ADAPTER.fetch_payment(
        "PL61C53A8B97E6915A", ACCOUNT, client_answering(200, fixture(name), seen)
    )
    assert (payment.status, payment.amount_minor, payment.currency) == (status, 12850, "HKD")
    assert str(seen[0].url) == "http://psp.test/adyen/v71/paymentLinks/PL61C53A8B97E6915A"
    assert seen[0].method == "GET" and seen[0].headers["X-API-Key"] == "AQEtest-key"


def test_fetch_payment_by_psp_reference_is_refused_without_a_call():
    seen: list[httpx.Request] = []
    with pytest.raises(ProviderRejected, match="payment link"):
        ADAPTER.fetch_payment("QFQTPCQ8HXSKGK82", ACCOUNT, client_answering(200, "{}", seen))
    assert seen == []


def test_refund_posts_to_the_payment_with_our_refund_id_and_key():
    seen: list[httpx.Request] = []
    client = client_answering(201, fixture("refund_received.json"), seen)
    result = ADAPTER.refund(
        "QFQTPCQ8HXSKGK82",
        5000,
        "HKD",
        "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61",
        "refund-key-1",
        ACCOUNT,
        client,
    )
    assert result.status is R.PENDING and result.amount_minor == 5000
    assert result.refund_reference == "JVBXGSDM53RZNN82"
    assert result.merchant_reference == "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61"
    [sent] = seen
    assert str(sent.url) == "http://psp.test/adyen/v71/payments/QFQTPCQ8HXSKGK82/refunds"
    assert sent.headers["Idempotency-Key"] == "refund-key-1"
    assert json.loads(sent.content) == {
        "merchantAccount": MERCHANT,
        "amount": {"value": 5000, "currency": "HKD"},
        "reference": "7d1f0c8e-2a44-4b0b-8f3e-1e2a9c4d5b61",
    }


def test_refund_by_link_id_or_for_nothing_is_refused_without_a_call():
    seen: list[httpx.Request] = []
    client = client_answering(201, fixture("refund_received.json"), seen)
    with pytest.raises(ProviderRejected, match="pspReference"):
        ADAPTER.refund("PL61C53A8B97E6915A", 5000, "HKD", "r", "k", ACCOUNT, client)
    with pytest.raises(ProviderRejected, match="positive"):
        ADAPTER.refund("QFQTPCQ8HXSKGK82", 0, "HKD", "r", "k", ACCOUNT, client)
    assert seen == []


def test_capture_is_not_a_separate_step():
    with pytest.raises(ProviderRejected, match="does not capture separately"):
        ADAPTER.capture("QFQTPCQ8HXSKGK82", "k", ACCOUNT, httpx.Client())


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, "{}", ProviderUnavailable),
        (503, "", ProviderUnavailable),
        (429, "{}", ProviderUnavailable),
        (401, fixture("unauthorized.json"), ProviderRejected),
        (403, "{}", ProviderRejected),
        (422, fixture("validation_error.json"), ProviderRejected),
        (201, "<html>maintenance</html>", ProviderRejected),
        (201, "[]", ProviderRejected),
        (201, '{"id": "PL1", "reference": "x"}', ProviderRejected),
    ],
)
def test_errors_map_onto_our_tree(status: int, body: str, error: type[Exception]):
    with pytest.raises(error):
        ADAPTER.create_checkout(checkout_request(), ACCOUNT, client_answering(status, body, []))


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_transport_failures_are_unavailable(failure: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(ProviderUnavailable):
        ADAPTER.refund("QFQTPCQ8HXSKGK82", 5000, "HKD", "r", "k", ACCOUNT, client)


# --- wiring ---------------------------------------------------------------------------


def test_the_registry_loads_the_adapter():
    adapter = registry.get_adapter("adyen")
    assert isinstance(adapter, AdyenAdapter) and adapter.slug == "adyen"


def test_provision_makes_fresh_keys_that_verify_the_sandboxs_notifications():
    tenant = DemoTenant(
        "harbour-express", "Harbour Express", "HKD", "http://127.0.0.1:8790", "",
        "http://127.0.0.1:3000/webhooks/payments/adyen/harbour-express",
    )  # fmt: skip
    first, second = demo.provision(tenant), demo.provision(tenant)
    assert first.secrets["hmac_key"] != second.secrets["hmac_key"]
    assert first.api_base == "http://127.0.0.1:8790/adyen"
    assert first.sandbox_key == MERCHANT == first.settings["merchant_account"]
    assert first.sandbox_record["webhook_url"] == tenant.webhook_url
    assert first.sandbox_record["merchant_name"] == "Harbour Express"
    account = ProviderAccount("adyen", first.api_base, first.settings, first.secrets)
    headers, body = sandbox.build_webhook(
        first.sandbox_record, items_of("authorisation_success.json")
    )
    assert verify(body, account, headers)[0].payment_status is P.SUCCEEDED
    with pytest.raises(WebhookRejected):
        other = ProviderAccount("adyen", second.api_base, first.settings, second.secrets)
        verify(body, other, headers)
