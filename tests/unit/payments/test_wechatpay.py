"""WeChat Pay API v3: signed requests, verified answers, platform certificates, notifications checked then opened."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.integrations.payments.wechatpay import codes, wire
from backend.integrations.payments.wechatpay.adapter import WeChatPayAdapter
from backend.integrations.payments.wechatpay.certificates import PlatformCertificates
from backend.sandbox.payments.wechatpay import build_webhook, seal, signed_headers
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo.wechatpay import platform_certificate, provision

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "wechatpay"
API_BASE = "http://wechat.test/wechatpay"
MCHID, APPID = "1230000109", "wxd678efh567hg6787"
PAYMENT_ID = "0190f3a2-1111-7000-8000-000000000001"
OUT_TRADE_NO = "0190f3a2111170008000000000000001"
REFUND_ID = "0190f3a2-2222-7000-8000-000000000009"
NOW = datetime.now(UTC).replace(microsecond=0)

# The tables of docs/payments/wechatpay.md, written out again so that a slip in codes.py shows.
DOCUMENTED_TRADE = {
    "SUCCESS": P.SUCCEEDED,
    "REFUND": P.SUCCEEDED,
    "NOTPAY": P.PENDING,
    "USERPAYING": P.PENDING,
    "ACCEPT": P.PENDING,
    "PAYERROR": P.FAILED,
    "CLOSED": P.CANCELLED,
    "REVOKED": P.CANCELLED,
}
DOCUMENTED_REFUND = {
    "PROCESSING": R.PENDING,
    "SUCCESS": R.SUCCEEDED,
    "CLOSED": R.FAILED,
    "ABNORMAL": R.FAILED,
}


@cache
def tenant(name: str) -> tuple[dict, ProviderAccount]:
    """(WeChat's record, our account) for a demo tenant: fresh keys, made once per test run."""
    made = provision(
        DemoTenant(name, name.title(), "HKD", "http://wechat.test", "", "http://127.0.0.1:9/wh")
    )
    mchid = MCHID if name == "harbour" else made.settings["mchid"]
    record = {**made.sandbox_record, "mchid": mchid, "appid": APPID}
    settings = {**made.settings, "mchid": mchid, "appid": APPID}
    return record, ProviderAccount("wechatpay", API_BASE, settings, made.secrets)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def resource(name: str, **changes) -> dict:
    return {**json.loads(fixture(name)), **changes}


def certificates_body(record: dict, apiv3_key: str | None = None) -> bytes:
    item = {
        "serial_no": record["platform_serial_no"],
        "effective_time": "2026-01-01T00:00:00+08:00",
        "expire_time": "2031-01-01T00:00:00+08:00",
        "encrypt_certificate": seal(
            apiv3_key or record["apiv3_key"], record["platform_certificate"].encode(), "certificate"
        ),
    }
    return json.dumps({"data": [item]}).encode()


class FakeWeChat:
    """A MockTransport handler answering as WeChat: signed answers, a certificate list."""

    def __init__(self, record: dict, answers: dict[str, tuple[int, bytes]] | None = None):
        self.record = record
        self.answers = answers or {}
        self.seen: list[httpx.Request] = []
        self.sign_answers = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/wechatpay")
        if path == "/v3/certificates" and f"GET {path}" not in self.answers:
            body = certificates_body(self.record)
            return httpx.Response(200, content=body, headers=signed_headers(self.record, body))
        status, body = self.answers[f"{request.method} {path}"]
        headers = signed_headers(self.record, body) if self.sign_answers else {}
        return httpx.Response(status, content=body, headers=headers)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.seen if not r.url.path.endswith("/v3/certificates")]


def checkout_request(**changes) -> CheckoutRequest:
    fields = {
        "payment_id": PAYMENT_ID,
        "idempotency_key": "idem-1",
        "amount_minor": 1234,
        "currency": "HKD",
        "description": "Parcel HX-7K2M9Q4P",
        "order_reference": "HX-7K2M9Q4P",
        "customer_email": "mei@example.com",
        "locale": "zh-HK",
        "return_url": "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P?x=1",
        "cancel_url": "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P?cancelled=1",
        "notify_url": "http://127.0.0.1:3000/webhooks/payments/wechatpay/harbour",
        **changes,
    }
    return CheckoutRequest(**fields)


def assert_signed_by_merchant(request: httpx.Request, record: dict) -> None:
    """Our Authorization header, checked the way WeChat checks it (merchant public key)."""
    scheme, _, params = request.headers["authorization"].partition(" ")
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    assert fields["mchid"] == record["mchid"]
    assert fields["serial_no"] == record["merchant_serial_no"]
    assert abs(int(fields["timestamp"]) - NOW.timestamp()) < 60
    message = b"\n".join(
        [
            request.method.encode(),
            request.url.raw_path,
            fields["timestamp"].encode(),
            fields["nonce_str"].encode(),
            request.content,
        ]
    )
    key = serialization.load_pem_public_key(record["merchant_public_key"].encode())
    key.verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(fields["signature"]), message + b"\n", padding.PKCS1v15(), hashes.SHA256()
    )


def notification(
    record: dict, event_type: str, plain: dict, *, at: datetime = NOW
) -> tuple[str, dict[str, str], bytes]:
    return build_webhook(record, event_type, plain, timestamp=int(at.timestamp()))


def verify(headers, body, *, account=None, at=NOW, fake=None, adapter=None):
    record, ours = tenant("harbour")
    fake = fake or FakeWeChat(record)
    return (adapter or WeChatPayAdapter()).verify_webhook(
        headers, body, account or ours, at, fake.client()
    )


# --- the mapping tables ---------------------------------------------------------------


def test_the_trade_state_table_is_the_documented_one() -> None:
    assert codes.TRADE_STATES == DOCUMENTED_TRADE


def test_the_refund_state_table_is_the_documented_one() -> None:
    assert codes.REFUND_STATES == DOCUMENTED_REFUND


@pytest.mark.parametrize("raw", ["MYSTERY", "success", ""])
def test_a_state_missing_from_the_tables_is_none_never_guessed(raw: str) -> None:
    assert codes.payment_status(raw) is None
    assert codes.refund_status(raw) is None


def test_our_uuid_payment_id_travels_as_32_hex_digits_and_comes_back() -> None:
    assert wire.out_trade_no(PAYMENT_ID) == OUT_TRADE_NO
    assert wire.out_trade_no(OUT_TRADE_NO) == OUT_TRADE_NO
    assert wire.payment_id(OUT_TRADE_NO) == PAYMENT_ID


@pytest.mark.parametrize("bad", ["abc", "x" * 33, "has space 123", "中文订单号123"])
def test_an_id_wechat_cannot_carry_is_refused_before_any_call(bad: str) -> None:
    with pytest.raises(ProviderRejected):
        wire.out_trade_no(bad)


# --- checkout ---------------------------------------------------------------------------


def test_checkout_posts_a_signed_h5_order_in_minor_units_with_our_payment_id() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, fixture("h5_created.json"))})

    checkout = WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())

    (call,) = fake.api_calls()
    assert (call.method, call.url.path) == ("POST", "/wechatpay/v3/pay/transactions/h5")
    assert_signed_by_merchant(call, record)
    assert call.headers["content-type"] == "application/json"
    assert call.headers["user-agent"]
    assert json.loads(call.content) == {
        "appid": APPID,
        "mchid": MCHID,
        "description": "Parcel HX-7K2M9Q4P",
        "out_trade_no": OUT_TRADE_NO,
        "notify_url": "http://127.0.0.1:3000/webhooks/payments/wechatpay/harbour",
        "amount": {"total": 1234, "currency": "HKD"},
        "scene_info": {"payer_client_ip": wire.UNKNOWN_PAYER_IP, "h5_info": {"type": "Wap"}},
    }
    assert checkout.provider_reference == OUT_TRADE_NO
    h5_url = json.loads(fixture("h5_created.json"))["h5_url"]
    assert checkout.redirect_url == h5_url + "&redirect_url=" + quote(
        "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P?x=1", safe=""
    )


def test_the_same_payment_sends_the_same_order_number_so_wechat_dedupes_it() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, fixture("h5_created.json"))})
    adapter = WeChatPayAdapter()

    first = adapter.create_checkout(checkout_request(), account, fake.client())
    again = adapter.create_checkout(checkout_request(), account, fake.client())

    bodies = [json.loads(r.content) for r in fake.api_calls()]
    assert bodies[0] == bodies[1]
    assert first == again
    assert len(fake.seen) == 3  # the certificate list was fetched once, for both answers


@pytest.mark.parametrize("amount", [0, -5, 12.5, True])
def test_a_non_positive_or_fractional_amount_is_refused_before_any_call(amount) -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record)
    with pytest.raises(ProviderRejected):
        WeChatPayAdapter().create_checkout(
            checkout_request(amount_minor=amount), account, fake.client()
        )
    assert fake.seen == []


def test_an_unsigned_answer_is_not_believed() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, fixture("h5_created.json"))})
    fake.sign_answers = False
    with pytest.raises(ProviderRejected, match="not signed"):
        WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())


def test_an_answer_signed_by_another_platform_key_is_not_believed() -> None:
    record, account = tenant("harbour")
    other, _ = tenant("dragon")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, fixture("h5_created.json"))})
    body = fixture("h5_created.json")
    forged = {**signed_headers(other, body), "Wechatpay-Serial": record["platform_serial_no"]}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v3/certificates"):
            return fake(request)
        return httpx.Response(200, content=body, headers=forged)

    with pytest.raises(ProviderRejected, match="does not match"):
        WeChatPayAdapter().create_checkout(
            checkout_request(), account, httpx.Client(transport=httpx.MockTransport(answer))
        )


def test_a_certificate_that_does_not_open_with_our_apiv3_key_is_refused() -> None:
    record, account = tenant("harbour")
    body = certificates_body(record, apiv3_key="k" * 32)
    fake = FakeWeChat(
        record,
        {
            "GET /v3/certificates": (200, body),
            "POST /v3/pay/transactions/h5": (200, fixture("h5_created.json")),
        },
    )
    with pytest.raises(ProviderRejected, match="APIv3"):
        WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())


def test_the_certificate_list_request_is_signed_too() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, fixture("h5_created.json"))})
    WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())
    certificate_call = fake.seen[1]
    assert certificate_call.url.path == "/wechatpay/v3/certificates"
    assert_signed_by_merchant(certificate_call, record)


# --- fetch, refund, capture ---------------------------------------------------------------


def test_fetch_queries_by_out_trade_no_with_mchid_and_reads_the_state() -> None:
    record, account = tenant("harbour")
    path = f"/v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}"
    fake = FakeWeChat(record, {f"GET {path}": (200, fixture("query_success.json"))})

    payment = WeChatPayAdapter().fetch_payment(OUT_TRADE_NO, account, fake.client())

    (call,) = fake.api_calls()
    assert call.url.path == "/wechatpay" + path
    assert call.url.params["mchid"] == MCHID
    assert call.content == b""
    assert_signed_by_merchant(call, record)
    assert (payment.provider_reference, payment.status) == (OUT_TRADE_NO, P.SUCCEEDED)
    assert (payment.amount_minor, payment.currency) == (1234, "HKD")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("query_notpay.json", P.PENDING), ("query_success.json", P.SUCCEEDED)],
)
def test_fetch_maps_each_state(name: str, expected: P) -> None:
    record, account = tenant("harbour")
    path = f"GET /v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}"
    fake = FakeWeChat(record, {path: (200, fixture(name))})
    assert WeChatPayAdapter().fetch_payment(PAYMENT_ID, account, fake.client()).status == expected


def test_fetch_refuses_a_state_it_does_not_know_and_another_merchants_order() -> None:
    record, account = tenant("harbour")
    path = f"GET /v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}"
    other = json.dumps(resource("query_success.json", mchid="1900000001")).encode()
    for body in (fixture("query_unknown_state.json"), other):
        fake = FakeWeChat(record, {path: (200, body)})
        with pytest.raises(ProviderRejected):
            WeChatPayAdapter().fetch_payment(OUT_TRADE_NO, account, fake.client())


def test_refund_reads_the_order_total_then_posts_our_refund_id_as_out_refund_no() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(
        record,
        {
            f"GET /v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}": (
                200,
                fixture("query_success.json"),
            ),
            "POST /v3/refund/domestic/refunds": (200, fixture("refund_processing.json")),
        },
    )

    result = WeChatPayAdapter().refund(
        OUT_TRADE_NO, 200, "HKD", REFUND_ID, "idem-refund-1", account, fake.client()
    )

    query, post = fake.api_calls()
    assert_signed_by_merchant(post, record)
    assert json.loads(post.content) == {
        "out_trade_no": OUT_TRADE_NO,
        "out_refund_no": REFUND_ID,
        "amount": {"refund": 200, "total": 1234, "currency": "HKD"},
    }
    assert result.refund_reference == "50000000382019052709732678859"
    assert (result.status, result.amount_minor) == (R.PENDING, 200)
    assert result.merchant_reference == REFUND_ID


def test_refund_in_another_currency_than_the_payment_is_refused() -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(
        record,
        {
            f"GET /v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}": (
                200,
                fixture("query_success.json"),
            )
        },
    )
    with pytest.raises(ProviderRejected, match="HKD"):
        WeChatPayAdapter().refund(OUT_TRADE_NO, 200, "CNY", REFUND_ID, "k", account, fake.client())
    assert [r.method for r in fake.api_calls()] == ["GET"]


def test_capture_is_not_a_separate_step() -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderRejected, match="does not capture separately"):
        WeChatPayAdapter().capture(OUT_TRADE_NO, "k", account, httpx.Client())


# --- error mapping ------------------------------------------------------------------------


def _failing(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("x")],
)
def test_transport_failures_are_unavailable(exc: Exception) -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderUnavailable):
        WeChatPayAdapter().fetch_payment(OUT_TRADE_NO, account, _failing(exc))


@pytest.mark.parametrize(
    ("status", "name", "error"),
    [
        (500, "error_system_error.json", ProviderUnavailable),
        (503, "error_system_error.json", ProviderUnavailable),
        (429, "error_frequency_limited.json", ProviderUnavailable),
        (400, "error_out_trade_no_duplicate.json", ProviderRejected),
        (401, "error_sign_error.json", ProviderRejected),
        (404, "error_order_not_exist.json", ProviderRejected),
    ],
)
def test_status_codes_map_onto_our_error_tree_with_wechats_code(status, name, error) -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (status, fixture(name))})
    code = json.loads(fixture(name))["code"]
    with pytest.raises(error, match=code):
        WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b"[1, 2]", b'{"h5_url": 7}'])
def test_a_signed_but_unreadable_answer_is_rejected(body: bytes) -> None:
    record, account = tenant("harbour")
    fake = FakeWeChat(record, {"POST /v3/pay/transactions/h5": (200, body)})
    with pytest.raises(ProviderRejected):
        WeChatPayAdapter().create_checkout(checkout_request(), account, fake.client())


def test_a_garbled_merchant_key_is_rejected_not_crashed() -> None:
    _, account = tenant("harbour")
    broken = ProviderAccount(
        "wechatpay", API_BASE, account.settings, {**account.secrets, "merchant_private_key": "x"}
    )
    with pytest.raises(ProviderRejected, match="merchant_private_key"):
        WeChatPayAdapter().fetch_payment(OUT_TRADE_NO, broken, httpx.Client())


# --- notifications: believed ----------------------------------------------------------------


def test_a_signed_transaction_success_is_opened_and_read() -> None:
    record, _ = tenant("harbour")
    event_id, headers, body = notification(
        record, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )

    (event,) = verify(headers, body)

    assert (event.event_id, event.event_type) == (event_id, "TRANSACTION.SUCCESS")
    assert (event.provider_reference, event.merchant_reference) == (OUT_TRADE_NO, PAYMENT_ID)
    assert (event.payment_status, event.refund_status) == (P.SUCCEEDED, None)
    assert (event.amount_minor, event.currency) == (1234, "HKD")
    assert event.occurred_at == datetime(2026, 11, 22, 3, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event_type", "name", "expected"),
    [
        ("REFUND.SUCCESS", "resource_refund_success.json", R.SUCCEEDED),
        ("REFUND.ABNORMAL", "resource_refund_abnormal.json", R.FAILED),
        ("REFUND.CLOSED", "resource_refund_closed.json", R.FAILED),
    ],
)
def test_each_refund_notification_is_read(event_type: str, name: str, expected: R) -> None:
    record, _ = tenant("harbour")
    _, headers, body = notification(record, event_type, resource(name))

    (event,) = verify(headers, body)

    assert (event.payment_status, event.refund_status) == (None, expected)
    assert event.provider_reference == OUT_TRADE_NO
    assert event.merchant_reference == REFUND_ID  # our refund id, echoed as out_refund_no
    assert event.refund_reference == "50000000382019052709732678859"
    assert event.amount_minor == 200
    assert bool(event.failure_reason) == (expected is R.FAILED)


def test_every_mapped_event_type_is_covered_above() -> None:
    assert set(codes.EVENT_TYPES) == {
        "TRANSACTION.SUCCESS",
        "REFUND.SUCCESS",
        "REFUND.ABNORMAL",
        "REFUND.CLOSED",
    }


def test_an_event_type_we_do_not_map_is_recorded_with_no_status() -> None:
    record, _ = tenant("harbour")
    _, headers, body = notification(
        record, "MCHTRANSFER.BILL.FINISHED", {"mchid": MCHID, "out_bill_no": "b1"}
    )
    (event,) = verify(headers, body)
    assert (event.payment_status, event.refund_status) == (None, None)


def test_header_names_are_matched_whatever_their_case() -> None:
    record, _ = tenant("harbour")
    _, headers, body = notification(
        record, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    # the webhook inbox stores headers lower-cased; a replay must verify all the same
    assert len(verify({k.lower(): v for k, v in headers.items()}, body)) == 1


def test_a_replay_from_the_inbox_verifies_as_of_its_arrival() -> None:
    record, _ = tenant("harbour")
    arrived = NOW - timedelta(hours=1)
    _, headers, body = notification(
        record, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json"), at=arrived
    )
    assert len(verify(headers, body, at=arrived + timedelta(seconds=2))) == 1


# --- notifications: refused -----------------------------------------------------------------


def _paid() -> tuple[dict[str, str], bytes]:
    record, _ = tenant("harbour")
    _, headers, body = notification(
        record, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    return headers, body


def test_a_signature_by_another_key_under_our_serial_is_rejected() -> None:
    """Wrong secret: signed by a key that is not WeChat's, naming WeChat's serial."""
    record, _ = tenant("harbour")
    impostor, _ = tenant("dragon")
    headers, body = _paid()
    forged = signed_headers(impostor, body, timestamp=int(NOW.timestamp()))
    forged["Wechatpay-Serial"] = record["platform_serial_no"]
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(forged, body)


def test_another_tenants_notification_is_rejected_after_one_refetch() -> None:
    """Signed with the other tenant's platform certificate: a serial we cannot learn."""
    record, _ = tenant("harbour")
    other, _ = tenant("dragon")
    _, headers, body = notification(
        other, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    fake = FakeWeChat(record)
    with pytest.raises(WebhookRejected, match="unknown platform certificate"):
        verify(headers, body, fake=fake)
    assert [r.url.path for r in fake.seen] == ["/wechatpay/v3/certificates"]


def test_a_resource_sealed_with_another_tenants_apiv3_key_is_rejected() -> None:
    """Signed by our platform key, but sealed for another merchant: it does not open."""
    record, _ = tenant("harbour")
    other, _ = tenant("dragon")
    sealed_for_other = {**record, "apiv3_key": other["apiv3_key"]}
    _, headers, body = notification(
        sealed_for_other, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    with pytest.raises(WebhookRejected, match="does not decrypt"):
        verify(headers, body)


def test_a_resource_naming_another_merchant_is_rejected() -> None:
    record, _ = tenant("harbour")
    _, headers, body = notification(
        record,
        "TRANSACTION.SUCCESS",
        resource("resource_transaction_success.json", mchid="1900000001"),
    )
    with pytest.raises(WebhookRejected, match="another merchant"):
        verify(headers, body)


@pytest.mark.parametrize("offset", [0, 40, -3])
def test_one_changed_byte_is_rejected(offset: int) -> None:
    headers, body = _paid()
    index = offset % len(body)
    changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(WebhookRejected):
        verify(headers, changed)


def test_a_changed_ciphertext_is_rejected_even_under_a_fresh_valid_signature() -> None:
    """AES-GCM authenticates the resource: a flipped bit fails after the signature holds."""
    record, _ = tenant("harbour")
    _, body = _paid()
    document = json.loads(body)
    sealed = base64.b64decode(document["resource"]["ciphertext"])
    document["resource"]["ciphertext"] = base64.b64encode(
        bytes([sealed[0] ^ 1]) + sealed[1:]
    ).decode()
    tampered = json.dumps(document).encode()
    with pytest.raises(WebhookRejected, match="does not decrypt"):
        verify(signed_headers(record, tampered, timestamp=int(NOW.timestamp())), tampered)


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
)
def test_a_missing_header_is_rejected(missing: str) -> None:
    headers, body = _paid()
    del headers[missing]
    with pytest.raises(WebhookRejected, match="missing"):
        verify(headers, body)


@pytest.mark.parametrize(
    "age", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=2)]
)
def test_a_stale_or_future_timestamp_is_rejected(age: timedelta) -> None:
    headers, body = _paid()
    with pytest.raises(WebhookRejected, match="stale"):
        verify(headers, body, at=NOW + age)


def test_a_timestamp_inside_the_tolerance_is_accepted() -> None:
    headers, body = _paid()
    assert len(verify(headers, body, at=NOW + timedelta(seconds=299))) == 1


def test_a_reserialized_body_is_rejected() -> None:
    """WeChat signs the raw bytes: the same JSON with other spacing is another message."""
    headers, body = _paid()
    same_json = json.dumps(json.loads(body), indent=2).encode()
    assert json.loads(same_json) == json.loads(body)
    with pytest.raises(WebhookRejected, match="bad signature"):
        verify(headers, same_json)


def test_wechats_signature_probe_is_rejected() -> None:
    """WeChat sends deliberately wrong "WECHATPAY/SIGNTEST/" signatures to test merchants."""
    headers, body = _paid()
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    with pytest.raises(WebhookRejected):
        verify(headers, body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"not json at all",
        b"[1, 2, 3]",
        b'{"id": 7}',
        b'{"id": "EV-1", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource"}',
        b'{"id": "EV-1", "event_type": "X", "resource_type": "encrypt-resource", "resource": []}',
        b'{"id": "EV-1\\u0000", "event_type": "X"}',
        b"x" * (256 * 1024 + 1),
    ],
)
def test_signed_but_malformed_bodies_are_rejected_never_crash(body: bytes) -> None:
    record, _ = tenant("harbour")
    headers = signed_headers(record, body, timestamp=int(NOW.timestamp()))
    with pytest.raises(WebhookRejected):
        verify(headers, body)


def test_a_decrypted_resource_that_is_not_json_is_rejected() -> None:
    record, _ = tenant("harbour")
    _, body = _paid()
    document = json.loads(body)
    document["resource"].update(seal(record["apiv3_key"], b"\xff not json", "transaction"))
    broken = json.dumps(document).encode()
    with pytest.raises(WebhookRejected, match="not JSON"):
        verify(signed_headers(record, broken, timestamp=int(NOW.timestamp())), broken)


@pytest.mark.parametrize("value", ["12ab", "", "1" * 13])
def test_a_garbled_timestamp_header_is_rejected(value: str) -> None:
    headers, body = _paid()
    headers["Wechatpay-Timestamp"] = value
    with pytest.raises(WebhookRejected):
        verify(headers, body)


# --- the platform certificate cache ---------------------------------------------------------


def test_certificates_are_fetched_once_and_cached_per_account() -> None:
    record, _ = tenant("harbour")
    fake, adapter = FakeWeChat(record), WeChatPayAdapter()
    for _ in range(3):
        headers, body = _paid()
        verify(headers, body, fake=fake, adapter=adapter)
    assert adapter.platform.fetches == 1


def test_an_unknown_serial_refetches_once_then_waits_before_asking_again() -> None:
    record, _ = tenant("harbour")
    other, _ = tenant("dragon")
    clock = [1000.0]
    adapter = WeChatPayAdapter(PlatformCertificates(refetch_after=60, clock=lambda: clock[0]))
    fake = FakeWeChat(record)
    verify(*_paid(), fake=fake, adapter=adapter)  # first fetch
    _, headers, body = notification(
        other, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    clock[0] += 61
    for _ in range(3):
        with pytest.raises(WebhookRejected):
            verify(headers, body, fake=fake, adapter=adapter)
    assert adapter.platform.fetches == 2  # one re-fetch for the unknown serial, not three


def test_a_rotated_certificate_is_learnt_by_the_refetch() -> None:
    record, _ = tenant("harbour")
    other, _ = tenant("dragon")
    rotated = {
        **record,
        **{
            k: other[k]
            for k in ("platform_serial_no", "platform_private_key", "platform_certificate")
        },
    }
    clock = [0.0]
    adapter = WeChatPayAdapter(PlatformCertificates(refetch_after=60, clock=lambda: clock[0]))
    verify(*_paid(), fake=FakeWeChat(record), adapter=adapter)
    _, headers, body = notification(
        rotated, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    clock[0] = 120.0
    assert len(verify(headers, body, fake=FakeWeChat(rotated), adapter=adapter)) == 1


def test_certificates_that_cannot_be_fetched_reject_the_notification() -> None:
    headers, body = _paid()
    _, account = tenant("harbour")
    with pytest.raises(WebhookRejected, match="unavailable"):
        WeChatPayAdapter().verify_webhook(
            headers, body, account, NOW, _failing(httpx.ConnectError("down"))
        )


def test_an_expired_platform_certificate_is_not_trusted() -> None:
    record, _ = tenant("harbour")
    key = serialization.load_pem_private_key(record["platform_private_key"].encode(), None)
    old = platform_certificate(key, now=NOW - timedelta(days=6 * 365))  # type: ignore[arg-type]
    expired = {
        **record,
        "platform_certificate": old.public_bytes(serialization.Encoding.PEM).decode(),
        "platform_serial_no": format(old.serial_number, "X"),
    }
    _, headers, body = notification(
        expired, "TRANSACTION.SUCCESS", resource("resource_transaction_success.json")
    )
    with pytest.raises(WebhookRejected, match="unknown platform certificate"):
        verify(headers, body, fake=FakeWeChat(expired))


# --- the demo provisioning ------------------------------------------------------------------


def test_provision_makes_matching_fresh_keys_for_both_sides() -> None:
    tenant_info = DemoTenant(
        "h", "Harbour", "HKD", "http://127.0.0.1:8790", "", "http://127.0.0.1:3000/wh"
    )
    first, second = provision(tenant_info), provision(tenant_info)
    record = first.sandbox_record
    assert first.api_base == "http://127.0.0.1:8790/wechatpay"
    assert first.sandbox_key == record["mchid"] == first.settings["mchid"]
    assert (
        record["merchant_name"] == "Harbour" and record["webhook_url"] == "http://127.0.0.1:3000/wh"
    )
    assert first.secrets["apiv3_key"] == record["apiv3_key"] and len(record["apiv3_key"]) == 32
    ours = serialization.load_pem_private_key(first.secrets["merchant_private_key"].encode(), None)
    assert (
        ours.public_key()
        .public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
        == record["merchant_public_key"]
    )
    assert first.settings["merchant_serial_no"] == record["merchant_serial_no"]
    assert "platform_private_key" not in first.secrets  # WeChat's own key never reaches us
    assert first.secrets["apiv3_key"] != second.secrets["apiv3_key"]
    assert record["platform_serial_no"] != second.sandbox_record["platform_serial_no"]
