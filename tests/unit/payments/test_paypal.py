"""PayPal's adapter: self-verified webhooks, Orders v2 requests, capture, refunds and error mapping."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.integrations.payments.paypal import codes, signature, wire
from backend.integrations.payments.paypal.adapter import PayPalAdapter
from backend.integrations.payments.paypal.auth import TokenCache
from backend.integrations.payments.registry import get_adapter
from backend.sandbox.payments.paypal import sign_webhook, utc_text
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo.paypal import provision

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "paypal"
API = "http://127.0.0.1:8790/paypal"
NOW = datetime.now(UTC).replace(microsecond=0)  # the demo certificates are valid from yesterday
ORDER = "5O190127TN364715T"
CAPTURE = "3C679366HH908993F"
PAYMENT_ID = "pay_0192f1c2-7d3e-7a11-b6c4-2f9e3a1d0c55"
REFUND_ID = "ref_0192f1c4-0a7b-7c22-8e5d-4b1f6c2e9d77"


def _tenant(slug: str) -> DemoTenant:
    return DemoTenant(
        slug=slug,
        name=slug.title(),
        currency="HKD",
        sandbox_url="http://127.0.0.1:8790",
        stripe_url="",
        webhook_url=f"http://127.0.0.1:3000/webhooks/payments/paypal/{slug}",
    )


HARBOUR = provision(_tenant("harbour-express"))
KOWLOON = provision(_tenant("kowloon-couriers"))


def account(provision_=HARBOUR, **settings: str) -> ProviderAccount:
    return ProviderAccount(
        "paypal", provision_.api_base, {**provision_.settings, **settings}, provision_.secrets
    )


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def adapter() -> PayPalAdapter:
    return PayPalAdapter(tokens=TokenCache(), certificates=signature.CertificateCache())


def cert_server(
    *records: dict, seen: list[httpx.Request] | None = None, pem: bytes | None = None
) -> httpx.Client:
    """A client whose transport serves the sandbox certificates of `records` (and logs requests)."""
    by_path = {f"/paypal/v1/notifications/certs/{r['cert_id']}": r["cert_pem"] for r in records}

    def serve(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if pem is not None:
            return httpx.Response(200, content=pem)
        found = by_path.get(request.url.path)
        return httpx.Response(200, text=found) if found else httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(serve))


def signed(body: bytes, record: dict = HARBOUR.sandbox_record, **kwargs) -> dict[str, str]:
    return sign_webhook(record, body, api_base=API, **{"at": NOW, **kwargs})


def verify(headers, body, acct=None, now=NOW, client=None, paypal=None):
    paypal = paypal or adapter()
    with client or cert_server(HARBOUR.sandbox_record, KOWLOON.sandbox_record) as http:
        return paypal.verify_webhook(headers, body, acct or account(), now, http)


# --- webhook authenticity ---------------------------------------------------------------


def test_a_notification_signed_for_this_webhook_is_accepted():
    body = fixture("event_capture_completed.json")
    [event] = verify(signed(body), body)
    assert event.event_id == "WH-58D329510W468432D-8HN650336L201105X"
    assert event.payment_status is P.SUCCEEDED


def test_the_signed_string_is_id_time_webhook_id_and_unsigned_crc32():
    body = b'{"id":"WH-30"}'  # its CRC32 is above 2**31: written unsigned, in decimal
    message = signature.signed_message("tid-1", "2026-11-22T03:12:10Z", "WEBHOOK1", body)
    assert message == b"tid-1|2026-11-22T03:12:10Z|WEBHOOK1|3389459851"


def test_a_signature_by_another_key_is_rejected():
    """The wrong secret: a key that is not the one in the certificate at PAYPAL-CERT-URL."""
    body = fixture("event_capture_completed.json")
    forged = {
        **HARBOUR.sandbox_record,
        "signing_key_pem": KOWLOON.sandbox_record["signing_key_pem"],
    }
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(signed(body, forged), body)


def test_another_tenants_notification_is_rejected():
    """Kowloon's webhook, signed and certified correctly for Kowloon's webhook id."""
    body = fixture("event_capture_completed.json")
    headers = signed(body, KOWLOON.sandbox_record)
    assert verify(headers, body, account(KOWLOON))  # genuine for its own tenant
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(headers, body, account(HARBOUR))


def test_one_changed_byte_is_rejected():
    body = fixture("event_capture_completed.json")
    headers = signed(body)
    tampered = body.replace(b'"value":"123.45"', b'"value":"923.45"', 1)
    assert tampered != body
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(headers, tampered)


def test_a_reserialized_body_is_rejected():
    """PayPal signs the CRC32 of the raw bytes: the same JSON written differently fails."""
    body = fixture("event_capture_completed.json")
    headers = signed(body)
    pretty = json.dumps(json.loads(body), indent=2).encode()
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(headers, pretty)


@pytest.mark.parametrize("name", signature.HEADERS)
def test_a_missing_header_is_rejected(name: str):
    body = fixture("event_capture_completed.json")
    headers = {k: v for k, v in signed(body).items() if k.lower() != name}
    with pytest.raises(WebhookRejected, match=f"missing {name}"):
        verify(headers, body)


@pytest.mark.parametrize("skew", [-301, 301, -86_400])
def test_a_stale_or_future_transmission_time_is_rejected(skew: int):
    body = fixture("event_capture_completed.json")
    headers = signed(body, at=NOW + timedelta(seconds=skew))
    with pytest.raises(WebhookRejected, match="stale or future"):
        verify(headers, body)


@pytest.mark.parametrize("skew", [-299, 299])
def test_a_transmission_within_the_tolerance_is_accepted(skew: int):
    body = fixture("event_capture_completed.json")
    assert verify(signed(body, at=NOW + timedelta(seconds=skew)), body)


def test_a_replay_from_the_inbox_verifies_at_its_arrival_time():
    body = fixture("event_capture_completed.json")
    headers = signed(body, at=NOW)
    assert verify(headers, body, now=NOW + timedelta(seconds=5))
    with pytest.raises(WebhookRejected):
        verify(headers, body, now=NOW + timedelta(days=2))


def test_a_changed_transmission_id_or_time_is_rejected():
    body = fixture("event_capture_completed.json")
    headers = signed(body)
    for name, value in (
        ("PAYPAL-TRANSMISSION-ID", "7e1d2f00-0000-11f1-8000-000000000000"),
        ("PAYPAL-TRANSMISSION-TIME", utc_text(NOW + timedelta(seconds=1))),
    ):
        with pytest.raises(WebhookRejected, match="bad signature"):
            verify({**headers, name: value}, body)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PAYPAL-AUTH-ALGO", "SHA1withRSA", "unsupported signature algorithm"),
        ("PAYPAL-TRANSMISSION-SIG", "not base64!", "not base64"),
        ("PAYPAL-TRANSMISSION-ID", "a|b", "garbled transmission id"),
        ("PAYPAL-TRANSMISSION-TIME", "22 Nov 2026 03:12:10", "garbled transmission time"),
        ("PAYPAL-TRANSMISSION-TIME", "2026-02-30T03:12:10Z", "garbled transmission time"),
        ("PAYPAL-TRANSMISSION-TIME", "0001-01-01T00:00:00+14:00", "transmission time"),
    ],
)
def test_garbled_headers_are_rejected(name: str, value: str, reason: str):
    body = fixture("event_capture_completed.json")
    with pytest.raises(WebhookRejected, match=reason):
        verify({**signed(body), name: value}, body)


def test_conflicting_duplicate_headers_are_rejected():
    body = fixture("event_capture_completed.json")
    headers = {**signed(body), "paypal-transmission-id": "another-id"}
    with pytest.raises(WebhookRejected, match="conflicting"):
        verify(headers, body)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.paypal.com/v1/notifications/certs/CERT-1",  # not https
        "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
        "https://evilpaypal.com/v1/notifications/certs/CERT-1",
        "https://user@api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
        "http://127.0.0.1:8790/paypalx/v1/notifications/certs/CERT-1",  # a prefix, not under it
        "http://127.0.0.1:8790/paypal/../carriers/cert",
        "http://127.0.0.1:8791/paypal/v1/notifications/certs/CERT-1",
        "file:///etc/passwd",
    ],
)
def test_a_certificate_url_off_paypal_is_rejected_without_fetching(url: str):
    body = fixture("event_capture_completed.json")
    seen: list[httpx.Request] = []
    with pytest.raises(WebhookRejected, match="not PayPal's"):
        verify(
            {**signed(body), "PAYPAL-CERT-URL": url},
            body,
            client=cert_server(HARBOUR.sandbox_record, seen=seen),
        )
    assert seen == []


def test_a_certificate_on_paypals_own_domain_is_fetched_and_used():
    body = fixture("event_capture_completed.json")
    url = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
    seen: list[httpx.Request] = []
    pem = HARBOUR.sandbox_record["cert_pem"].encode()
    assert verify(
        {**signed(body), "PAYPAL-CERT-URL": url}, body, client=cert_server(pem=pem, seen=seen)
    )
    assert [str(r.url) for r in seen] == [url]


def test_certificates_are_fetched_once_per_url():
    body = fixture("event_capture_completed.json")
    seen: list[httpx.Request] = []
    paypal = adapter()
    for _ in range(3):
        verify(
            signed(body), body, client=cert_server(HARBOUR.sandbox_record, seen=seen), paypal=paypal
        )
    assert len(seen) == 1


def test_the_certificate_cache_is_bounded():
    cache = signature.CertificateCache(max_entries=2)
    pem = HARBOUR.sandbox_record["cert_pem"].encode()
    with cert_server(pem=pem) as http:
        for n in range(5):
            cache.get(f"{API}/v1/notifications/certs/CERT-{n}", http)
    assert len(cache._certs) == 2


def _certificate(not_before: datetime, not_after: datetime) -> tuple[dict, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    record = {**HARBOUR.sandbox_record, "signing_key_pem": key_pem}
    return record, cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (NOW - timedelta(days=400), NOW - timedelta(days=1)),
        (NOW + timedelta(days=1), NOW + timedelta(days=400)),
    ],
)
def test_a_certificate_not_valid_now_is_rejected(before: datetime, after: datetime):
    body = fixture("event_capture_completed.json")
    record, pem = _certificate(before, after)
    with pytest.raises(WebhookRejected, match="not valid now"):
        verify(signed(body, record), body, client=cert_server(pem=pem))


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(404),
        httpx.Response(200, content=b"-----BEGIN CERTIFICATE-----\nnonsense\n"),
        httpx.Response(200, content=b"x" * (signature.MAX_CERT_BYTES + 1)),
    ],
)
def test_an_unusable_certificate_answer_is_rejected(answer: httpx.Response):
    body = fixture("event_capture_completed.json")
    client = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    with pytest.raises(WebhookRejected):
        verify(signed(body), body, client=client)


def test_an_unreachable_certificate_is_rejected():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    body = fixture("event_capture_completed.json")
    with pytest.raises(WebhookRejected, match="could not fetch"):
        verify(signed(body), body, client=httpx.Client(transport=httpx.MockTransport(down)))


def test_an_account_without_a_webhook_id_rejects_everything():
    body = fixture("event_capture_completed.json")
    with pytest.raises(WebhookRejected, match="no webhook_id"):
        verify(signed(body), body, account(webhook_id=""))


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b'{"id": "WH-1", "event_type": ',
        b'["WH-1"]',
        b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}',  # no resource
        b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":7}}',
        b'{"id":"WH-1","event_type":"X","resource":{"id":"A\\u0000"}}',
        b'{"id":"","event_type":"X","resource":{}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_signed_but_unreadable_bodies_are_rejected(body: bytes):
    with pytest.raises(WebhookRejected):
        verify(signed(body), body)


def test_an_oversized_body_is_rejected_before_anything_else():
    body = b"{" + b" " * (256 * 1024) + b"}"
    with pytest.raises(WebhookRejected, match="too large"):
        verify(signed(body), body)


# --- reading events ---------------------------------------------------------------------

EVENTS = {
    "event_checkout_order_approved.json": ("CHECKOUT.ORDER.APPROVED", P.AUTHORIZED, None, ORDER, PAYMENT_ID, ""),
    "event_capture_completed.json": ("PAYMENT.CAPTURE.COMPLETED", P.SUCCEEDED, None, ORDER, PAYMENT_ID, ""),
    "event_capture_completed_without_related_ids.json": ("PAYMENT.CAPTURE.COMPLETED", P.SUCCEEDED, None, ORDER, PAYMENT_ID, ""),
    "event_capture_pending.json": ("PAYMENT.CAPTURE.PENDING", P.PENDING, None, ORDER, PAYMENT_ID, ""),
    "event_capture_denied.json": ("PAYMENT.CAPTURE.DENIED", P.FAILED, None, ORDER, PAYMENT_ID, ""),
    "event_capture_refunded.json": ("PAYMENT.CAPTURE.REFUNDED", None, R.SUCCEEDED, CAPTURE, REFUND_ID, "1JU08902781691411"),
    "event_capture_reversed.json": ("PAYMENT.CAPTURE.REVERSED", None, R.SUCCEEDED, CAPTURE, "", "1JU08902781691411"),
    "event_dispute_created_unmapped.json": ("CUSTOMER.DISPUTE.CREATED", None, None, "", "", ""),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_type_is_read(name: str):
    event_type, payment, refund, reference, merchant, refund_reference = EVENTS[name]
    body = fixture(name)
    [event] = verify(signed(body), body)
    assert event.event_id == json.loads(body)["id"]
    assert (event.event_type, event.payment_status, event.refund_status) == (
        event_type,
        payment,
        refund,
    )
    assert (event.provider_reference, event.merchant_reference) == (reference, merchant)
    assert event.refund_reference == refund_reference
    assert event.occurred_at == datetime(2026, 11, 22, 3, 12, 9, 512000, tzinfo=UTC)


def test_amounts_of_events_are_minor_units():
    body = fixture("event_capture_refunded.json")
    [event] = verify(signed(body), body)
    assert (event.amount_minor, event.currency) == (1000, "HKD")


def test_a_denied_capture_carries_its_reason():
    body = fixture("event_capture_denied.json")
    [event] = verify(signed(body), body)
    assert event.failure_reason == "DECLINED_BY_RISK_FRAUD_FILTERS"


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"WH-2","event_type":"PAYMENT.SALE.COMPLETED","resource":{"amount":{"total":"21.00","currency":"USD"}}}',
        b'{"id":"WH-3","event_type":"BILLING.PLAN.UPDATED","resource":["odd"],"create_time":"yesterday"}',
        b'{"id":"WH-4","event_type":"CUSTOMER.DISPUTE.UPDATED","resource_type":7,"resource":{"id":9}}',
    ],
)
def test_an_unmapped_event_of_any_shape_is_recorded_not_refused(body: bytes):
    """A 4xx would make PayPal retry it for three days: it is read for its ids only."""
    [event] = verify(signed(body), body)
    assert event.payment_status is None and event.refund_status is None
    assert event.event_id == json.loads(body)["id"]


@pytest.mark.parametrize(
    "name", ["event_approved_about_a_dispute.json", "event_capture_unreadable_amount.json"]
)
def test_a_mapped_event_we_cannot_read_is_rejected(name: str):
    body = fixture(name)
    with pytest.raises(WebhookRejected):
        verify(signed(body), body)


# --- tables and amounts -----------------------------------------------------------------


def test_the_tables_are_the_documented_ones():
    # docs/payments/paypal.md, written out again so that a slip in codes.py shows.
    assert codes.ORDER_STATUS == {
        "CREATED": P.CREATED, "SAVED": P.CREATED, "PAYER_ACTION_REQUIRED": P.CREATED,
        "APPROVED": P.AUTHORIZED, "VOIDED": P.CANCELLED,
    }  # fmt: skip
    assert codes.CAPTURE_STATUS == {
        "COMPLETED": P.SUCCEEDED, "PARTIALLY_REFUNDED": P.SUCCEEDED, "REFUNDED": P.SUCCEEDED,
        "PENDING": P.PENDING, "DECLINED": P.FAILED, "FAILED": P.FAILED,
    }  # fmt: skip
    assert codes.REFUND_STATUS == {
        "COMPLETED": R.SUCCEEDED, "PENDING": R.PENDING, "FAILED": R.FAILED, "CANCELLED": R.FAILED,
    }  # fmt: skip
    assert codes.PAYMENT_EVENTS == {
        "CHECKOUT.ORDER.APPROVED": P.AUTHORIZED, "PAYMENT.CAPTURE.COMPLETED": P.SUCCEEDED,
        "PAYMENT.CAPTURE.PENDING": P.PENDING, "PAYMENT.CAPTURE.DENIED": P.FAILED,
        "PAYMENT.CAPTURE.DECLINED": P.FAILED,
    }  # fmt: skip
    assert codes.REFUND_EVENTS == {
        "PAYMENT.CAPTURE.REFUNDED": R.SUCCEEDED, "PAYMENT.CAPTURE.REVERSED": R.SUCCEEDED,
    }  # fmt: skip
    assert "INSTRUMENT_DECLINED" in codes.CAPTURE_DECLINE_ISSUES


def test_the_capture_decides_a_completed_orders_status():
    assert codes.order_status("COMPLETED", "DECLINED") is P.FAILED
    assert codes.order_status("APPROVED", None) is P.AUTHORIZED
    assert codes.order_status("COMPLETED", None) is None


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [(1, "HKD", "0.01"), (12345, "HKD", "123.45"), (100, "USD", "1.00"), (500, "JPY", "500"),
     (1999, "TWD", "1999"), (150000, "HUF", "1500"), (10**12 + 7, "EUR", "10000000000.07")],
)  # fmt: skip
def test_minor_units_become_paypal_values_exactly(minor: int, currency: str, value: str):
    assert wire.to_value(minor, currency) == value
    assert wire.to_minor(value, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency"), [(0, "HKD"), (-5, "HKD"), (150001, "HUF"), (True, "HKD"), (100, "hkd")]
)
def test_amounts_paypal_cannot_take_are_refused(minor, currency):
    with pytest.raises(ValueError):
        wire.to_value(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [("12.345", "HKD"), ("1e3", "HKD"), ("-1.00", "HKD"), ("12.5", "JPY"), ("", "HKD"), (12, "HKD"), ("1,000", "HKD")],
)  # fmt: skip
def test_unreadable_paypal_values_are_refused(value, currency):
    with pytest.raises(ValueError):
        wire.to_minor(value, currency)


def test_trailing_zeros_beyond_the_minor_unit_are_exact():
    assert wire.to_minor("100.00", "JPY") == 100
    assert wire.to_minor("10.5", "HKD") == 1050
    assert wire.to_minor("10", "HKD") == 1000


# --- the API with httpx.MockTransport ---------------------------------------------------


class PayPalStub:
    """Answers by (method, path); records every request."""

    def __init__(
        self,
        routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response] | httpx.Response],
    ):
        self.routes = {("POST", "/paypal/v1/oauth2/token"): json_answer("token.json"), **routes}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, content=fixture("resource_not_found.json"))
        return route(request) if callable(route) else route

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests]


def json_answer(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=fixture(name), headers={"Content-Type": "application/json"}
    )


CHECKOUT = CheckoutRequest(
    payment_id=PAYMENT_ID,
    idempotency_key="idem-0192f1c2",
    amount_minor=12345,
    currency="HKD",
    description="Parcel delivery",
    order_reference="W-1001",
    customer_email="chan@example.com",
    locale="zh-HK",
    return_url="http://127.0.0.1:3000/pay/return?payment=1",
    cancel_url="http://127.0.0.1:3000/pay/cancel?payment=1",
    notify_url="http://127.0.0.1:3000/webhooks/payments/paypal/harbour-express",
)
ORDERS = "/paypal/v2/checkout/orders"


def test_create_checkout_sends_our_reference_amount_and_idempotency_key():
    stub = PayPalStub({("POST", ORDERS): json_answer("order_created.json", 201)})
    checkout = adapter().create_checkout(CHECKOUT, account(), stub.client())
    assert checkout.provider_reference == ORDER
    assert checkout.redirect_url == f"https://www.sandbox.paypal.com/checkoutnow?token={ORDER}"
    token_request, order_request = stub.requests
    pair = f"{HARBOUR.settings['client_id']}:{HARBOUR.secrets['client_secret']}"
    assert (
        token_request.headers["Authorization"]
        == "Basic " + base64.b64encode(pair.encode()).decode()
    )
    assert token_request.content == b"grant_type=client_credentials"
    assert order_request.headers["Authorization"].startswith("Bearer A21AA")
    assert order_request.headers["PayPal-Request-Id"] == "idem-0192f1c2"
    body = json.loads(order_request.content)
    unit = body["purchase_units"][0]
    assert body["intent"] == "CAPTURE"
    assert unit["amount"] == {"currency_code": "HKD", "value": "123.45"}
    assert unit["custom_id"] == unit["reference_id"] == unit["invoice_id"] == PAYMENT_ID
    context = body["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"]) == (
        CHECKOUT.return_url,
        CHECKOUT.cancel_url,
    )
    assert context["locale"] == "zh-HK"


def test_the_legacy_approve_link_is_followed_too():
    stub = PayPalStub({("POST", ORDERS): json_answer("order_created_legacy_approve.json", 201)})
    assert (
        adapter().create_checkout(CHECKOUT, account(), stub.client()).redirect_url.endswith(ORDER)
    )


def test_an_order_without_an_approval_link_is_rejected():
    stub = PayPalStub({("POST", ORDERS): json_answer("order_approved.json", 200)})
    with pytest.raises(ProviderRejected, match="approval link"):
        adapter().create_checkout(CHECKOUT, account(), stub.client())


def test_the_token_is_cached_per_account_until_it_expires():
    clock = [1000.0]
    paypal = PayPalAdapter(tokens=TokenCache(clock=lambda: clock[0]))
    stub = PayPalStub({("GET", f"{ORDERS}/{ORDER}"): json_answer("order_approved.json")})
    paypal.fetch_payment(ORDER, account(), stub.client())
    paypal.fetch_payment(ORDER, account(), stub.client())
    paypal.fetch_payment(ORDER, account(KOWLOON), stub.client())  # another account, its own token
    clock[0] += 32400
    paypal.fetch_payment(ORDER, account(), stub.client())
    assert [path for _, path in stub.calls()].count("/paypal/v1/oauth2/token") == 3


def test_a_revoked_token_is_renewed_once():
    answers = iter([httpx.Response(401), json_answer("order_approved.json")])
    stub = PayPalStub({("GET", f"{ORDERS}/{ORDER}"): lambda request: next(answers)})
    paypal = adapter()
    assert paypal.fetch_payment(ORDER, account(), stub.client()).status is P.AUTHORIZED
    assert [path for _, path in stub.calls()].count("/paypal/v1/oauth2/token") == 2


def test_wrong_client_credentials_are_rejected():
    stub = PayPalStub(
        {("POST", "/paypal/v1/oauth2/token"): json_answer("token_invalid_client.json", 401)}
    )
    with pytest.raises(ProviderRejected, match="client id and secret"):
        adapter().fetch_payment(ORDER, account(), stub.client())


@pytest.mark.parametrize(
    ("name", "status", "refunds"),
    [
        ("order_approved.json", P.AUTHORIZED, []),
        ("order_captured.json", P.SUCCEEDED, []),
        ("order_capture_pending.json", P.PENDING, []),
        ("order_partially_refunded.json", P.SUCCEEDED, [("1JU08902781691411", R.SUCCEEDED, 1000, REFUND_ID)]),
    ],
)  # fmt: skip
def test_fetch_payment_reads_the_order_and_its_refunds(name, status, refunds):
    stub = PayPalStub({("GET", f"{ORDERS}/{ORDER}"): json_answer(name)})
    payment = adapter().fetch_payment(ORDER, account(), stub.client())
    assert (payment.provider_reference, payment.status) == (ORDER, status)
    assert (payment.amount_minor, payment.currency) == (12345, "HKD")
    assert [
        (r.refund_reference, r.status, r.amount_minor, r.merchant_reference)
        for r in payment.refunds
    ] == refunds
    assert stub.requests[-1].headers["Authorization"].startswith("Bearer ")


def test_capture_posts_with_its_idempotency_key():
    stub = PayPalStub(
        {("POST", f"{ORDERS}/{ORDER}/capture"): json_answer("order_captured.json", 201)}
    )
    payment = adapter().capture(ORDER, "cap-0192f1c2", account(), stub.client())
    assert payment.status is P.SUCCEEDED
    request = stub.requests[-1]
    assert request.headers["PayPal-Request-Id"] == "cap-0192f1c2"
    assert request.headers["Prefer"] == "return=representation"
    assert json.loads(request.content) == {}


def test_a_declined_instrument_fails_the_payment():
    stub = PayPalStub(
        {
            ("POST", f"{ORDERS}/{ORDER}/capture"): json_answer(
                "capture_instrument_declined.json", 422
            ),
            ("GET", f"{ORDERS}/{ORDER}"): json_answer("order_approved.json"),
        }
    )
    payment = adapter().capture(ORDER, "cap-1", account(), stub.client())
    assert (payment.status, payment.amount_minor) == (P.FAILED, 12345)


def test_a_capture_already_made_is_read_back():
    stub = PayPalStub(
        {
            ("POST", f"{ORDERS}/{ORDER}/capture"): json_answer(
                "capture_order_already_captured.json", 422
            ),
            ("GET", f"{ORDERS}/{ORDER}"): json_answer("order_captured.json"),
        }
    )
    assert adapter().capture(ORDER, "cap-2", account(), stub.client()).status is P.SUCCEEDED


def test_capturing_an_unapproved_order_is_our_mistake():
    stub = PayPalStub(
        {("POST", f"{ORDERS}/{ORDER}/capture"): json_answer("capture_order_not_approved.json", 422)}
    )
    with pytest.raises(ProviderRejected, match="ORDER_NOT_APPROVED"):
        adapter().capture(ORDER, "cap-3", account(), stub.client())


REFUND_PATH = f"/paypal/v2/payments/captures/{CAPTURE}/refund"


def test_refund_finds_the_capture_and_sends_our_refund_id():
    stub = PayPalStub(
        {
            ("GET", f"{ORDERS}/{ORDER}"): json_answer("order_captured.json"),
            ("POST", REFUND_PATH): json_answer("refund_completed.json", 201),
        }
    )
    result = adapter().refund(ORDER, 1000, "HKD", REFUND_ID, "rk-0192", account(), stub.client())
    assert (result.refund_reference, result.status, result.amount_minor) == (
        "1JU08902781691411",
        R.SUCCEEDED,
        1000,
    )
    assert result.merchant_reference == REFUND_ID
    request = stub.requests[-1]
    assert request.headers["PayPal-Request-Id"] == "rk-0192"
    assert json.loads(request.content) == {
        "amount": {"currency_code": "HKD", "value": "10.00"},
        "invoice_id": REFUND_ID,
        "custom_id": REFUND_ID,
    }


def test_a_pending_refund_is_pending():
    stub = PayPalStub(
        {
            ("GET", f"{ORDERS}/{ORDER}"): json_answer("order_partially_refunded.json"),
            ("POST", REFUND_PATH): json_answer("refund_pending.json", 201),
        }
    )
    assert (
        adapter().refund(ORDER, 1000, "HKD", REFUND_ID, "rk-1", account(), stub.client()).status
        is R.PENDING
    )


@pytest.mark.parametrize(
    ("name", "currency"), [("order_approved.json", "HKD"), ("order_captured.json", "USD")]
)
def test_refund_needs_a_capture_in_its_currency(name: str, currency: str):
    stub = PayPalStub({("GET", f"{ORDERS}/{ORDER}"): json_answer(name)})
    with pytest.raises(ProviderRejected):
        adapter().refund(ORDER, 1000, currency, REFUND_ID, "rk-2", account(), stub.client())
    assert ("POST", REFUND_PATH) not in stub.calls()


def test_a_refund_beyond_the_capture_is_rejected_with_paypals_issue():
    stub = PayPalStub(
        {
            ("GET", f"{ORDERS}/{ORDER}"): json_answer("order_captured.json"),
            ("POST", REFUND_PATH): json_answer("refund_amount_exceeded.json", 422),
        }
    )
    with pytest.raises(ProviderRejected, match="REFUND_AMOUNT_EXCEEDED"):
        adapter().refund(ORDER, 99999, "HKD", REFUND_ID, "rk-3", account(), stub.client())


@pytest.mark.parametrize(
    "reference", ["../v1/oauth2/token", "5o190127tn364715t", "", "A" * 40, "ABC?x=1"]
)
def test_a_reference_that_is_not_a_paypal_id_never_reaches_a_url(reference: str):
    stub = PayPalStub({})
    with pytest.raises(ProviderRejected, match="not a PayPal order id"):
        adapter().fetch_payment(reference, account(), stub.client())
    assert stub.requests == []


def _raising(error: type[httpx.HTTPError]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return answer


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (_raising(httpx.ReadTimeout), ProviderUnavailable),
        (_raising(httpx.ConnectError), ProviderUnavailable),
        (httpx.Response(500), ProviderUnavailable),
        (httpx.Response(503), ProviderUnavailable),
        (httpx.Response(429), ProviderUnavailable),
        (httpx.Response(400, json={"name": "INVALID_REQUEST"}), ProviderRejected),
        (json_answer("resource_not_found.json", 404), ProviderRejected),
        (httpx.Response(403), ProviderRejected),
        (httpx.Response(302, headers={"Location": "https://evil.example/"}), ProviderRejected),
        (httpx.Response(200, content=fixture("garbage_html_error.txt")), ProviderRejected),
        (httpx.Response(200, json=["not", "an", "object"]), ProviderRejected),
        (json_answer("order_unknown_status.json"), ProviderRejected),
        (httpx.Response(200, json={"id": ORDER, "status": "APPROVED", "purchase_units": []}), ProviderRejected),
    ],
)  # fmt: skip
def test_errors_map_onto_our_tree(answer, error):
    stub = PayPalStub({("GET", f"{ORDERS}/{ORDER}"): answer})
    with pytest.raises(error):
        adapter().fetch_payment(ORDER, account(), stub.client())


@pytest.mark.parametrize(
    "token",
    [
        httpx.Response(200, json={"access_token": "x", "token_type": "Basic", "expires_in": 10}),
        httpx.Response(200, json={"access_token": "", "token_type": "Bearer", "expires_in": 10}),
        httpx.Response(200, json={"access_token": "x", "token_type": "Bearer"}),
        httpx.Response(503),
    ],
)
def test_an_unusable_token_answer_stops_the_call(token: httpx.Response):
    stub = PayPalStub({("POST", "/paypal/v1/oauth2/token"): token})
    with pytest.raises((ProviderRejected, ProviderUnavailable)):
        adapter().fetch_payment(ORDER, account(), stub.client())
    assert stub.calls() == [("POST", "/paypal/v1/oauth2/token")]


def test_a_request_id_paypal_cannot_store_is_refused():
    stub = PayPalStub({})
    with pytest.raises(ProviderRejected, match="PayPal-Request-Id"):
        adapter().capture(ORDER, "k" * 109, account(), stub.client())


# --- registry and demo accounts ---------------------------------------------------------


def test_the_registry_serves_the_paypal_adapter():
    paypal = get_adapter("paypal")
    assert isinstance(paypal, PayPalAdapter)
    assert paypal.capabilities.capture_after_approval
    assert paypal.capabilities.signs_raw_body and paypal.capabilities.signed_timestamp
    assert paypal.webhook_ack.status_code == 200


def test_each_provision_makes_fresh_keys_for_both_sides():
    first, second = provision(_tenant("harbour-express")), provision(_tenant("harbour-express"))
    assert first.api_base == "http://127.0.0.1:8790/paypal"
    assert first.sandbox_key == first.settings["client_id"] == first.sandbox_record["client_id"]
    assert first.secrets["client_secret"] == first.sandbox_record["client_secret"]
    assert first.settings["webhook_id"] == first.sandbox_record["webhook_id"]
    assert first.sandbox_record["webhook_url"].endswith("/paypal/harbour-express")
    assert first.sandbox_record["merchant_name"] == "Harbour-Express"
    for name in ("client_id", "client_secret", "webhook_id", "cert_id", "signing_key_pem"):
        assert first.sandbox_record[name] != second.sandbox_record[name]
    assert "signing_key_pem" not in first.secrets and "client_secret" not in first.settings
