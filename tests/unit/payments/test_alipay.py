"""Alipay: signed page.pay redirects, verified gateway answers, refunds by out_request_no, RSA2 notifies."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.alipay import codes, notify, signing, wire
from backend.integrations.payments.alipay.adapter import AlipayAdapter
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
)
from backend.sandbox.payments.alipay import alipay_sign, build_notify
from backend.services.payment_demo import DemoTenant
from backend.services.payment_demo.alipay import provision

FIXTURES = Path(__file__).parents[2] / "fixtures" / "payments" / "alipay"
API_BASE = "http://alipay.test/alipay"
PAYMENT_ID = "0190f3a2-1111-7000-8000-000000000001"
REFUND_ID = "0190f3a2-2222-7000-8000-000000000009"
NOW = datetime(2026, 11, 22, 3, 10, 31, tzinfo=UTC)  # 11:10:31 in Beijing
SHANGHAI = ZoneInfo("Asia/Shanghai")
ADAPTER = AlipayAdapter()

# The tables of docs/payments/alipay.md, written out again so that a slip in codes.py shows.
DOCUMENTED_TRADE = {
    "WAIT_BUYER_PAY": P.PENDING,
    "TRADE_SUCCESS": P.SUCCEEDED,
    "TRADE_FINISHED": P.SUCCEEDED,
    "TRADE_CLOSED": P.FAILED,
}


@cache
def tenant(name: str) -> tuple[dict, ProviderAccount]:
    """(Alipay's record, our account) for a demo tenant: fresh keys, made once per test run."""
    made = provision(
        DemoTenant(name, name.title(), "HKD", "http://alipay.test", "", "http://127.0.0.1:9/wh")
    )
    return made.sandbox_record, ProviderAccount("alipay", API_BASE, made.settings, made.secrets)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fields(name: str, **changes: str) -> dict[str, str]:
    return {**json.loads(fixture(name)), **changes}


def checkout_request(**changes) -> CheckoutRequest:
    values = {
        "payment_id": PAYMENT_ID,
        "idempotency_key": "idem-1",
        "amount_minor": 1234,
        "currency": "HKD",
        "description": "Parcel HX-7K2M9Q4P",
        "order_reference": "HX-7K2M9Q4P",
        "customer_email": "mei@example.com",
        "locale": "en",
        "return_url": "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P",
        "cancel_url": "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P?cancelled=1",
        "notify_url": "http://127.0.0.1:3000/webhooks/payments/alipay/harbour",
        **changes,
    }
    return CheckoutRequest(**values)


def app_signature_holds(params: dict[str, str], record: dict) -> bool:
    """Our request's sign checked the way Alipay checks it: all params but sign, sorted, non-empty."""
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v)
    key = serialization.load_pem_public_key(record["app_public_key"].encode())
    try:
        key.verify(  # type: ignore[union-attr,call-arg]
            base64.b64decode(params["sign"]), text.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:
        return False
    return True


def answer_body(record: dict | None, method: str, node: dict, *, spaced: bool = True) -> bytes:
    """A gateway answer as Alipay writes it; spaced JSON proves the sign is over the raw text."""
    text = json.dumps(node, ensure_ascii=False, separators=(", ", ": ") if spaced else (",", ":"))
    name = method.replace(".", "_") + "_response"
    body = f'{{"{name}": {text}'
    if record is not None:
        body += f', "sign": "{alipay_sign(record, text.encode())}"'
    return (body + "}").encode()


class FakeGateway:
    """A MockTransport handler answering as Alipay's gateway.do, one node per method."""

    def __init__(self, record: dict, nodes: dict[str, dict], signer: dict | None = None):
        self.record, self.nodes, self.signer = record, nodes, signer or record
        self.seen: list[dict[str, str]] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.content.decode()))
        self.requests.append(request)
        self.seen.append(params)
        assert app_signature_holds(params, self.record)
        method = params["method"]
        return httpx.Response(200, content=answer_body(self.signer, method, self.nodes[method]))

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def biz(self, index: int = 0) -> dict:
        return json.loads(self.seen[index]["biz_content"])


def notify_body(
    record: dict, name_or_fields: str | dict, *, at: datetime = NOW, **changes: str
) -> bytes:
    base = fields(name_or_fields) if isinstance(name_or_fields, str) else name_or_fields
    values = {
        **base,
        "notify_id": "2026112200222111030012345678",
        "seller_id": record["seller_id"],
        **changes,
    }
    _, body = build_notify(record, values, notify_time=at)
    return body


def verify(body: bytes, *, account: ProviderAccount | None = None, at: datetime = NOW):
    return ADAPTER.verify_webhook(
        {"content-type": "application/x-www-form-urlencoded"},
        body,
        account or tenant("harbour")[1],
        at,
        httpx.Client(),
    )


# --- tables and amounts -----------------------------------------------------------------


def test_the_trade_status_table_is_the_documented_one() -> None:
    assert codes.TRADE_STATUSES == DOCUMENTED_TRADE
    assert codes.REFUND_STATUSES == {"REFUND_SUCCESS": R.SUCCEEDED}


def test_a_closed_trade_that_had_been_paid_stays_succeeded() -> None:
    assert codes.payment_status("TRADE_CLOSED", "2026-11-22 11:10:30") is P.SUCCEEDED
    assert codes.payment_status("TRADE_CLOSED") is P.FAILED


@pytest.mark.parametrize("raw", ["MYSTERY", "trade_success", ""])
def test_a_status_missing_from_the_table_is_none_never_guessed(raw: str) -> None:
    assert codes.payment_status(raw) is None


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1234, "HKD", "12.34"), (5, "CNY", "0.05"), (100, "CNY", "1.00"), (1234, "JPY", "1234")],
)
def test_amounts_convert_exactly_both_ways(minor: int, currency: str, text: str) -> None:
    assert wire.amount_text(minor, currency) == text
    assert wire.amount_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"), [("12.345", "HKD"), ("1.5", "JPY"), ("-1.00", "HKD"), ("1e3", "HKD")]
)
def test_an_amount_that_is_not_exact_is_refused(text: str, currency: str) -> None:
    with pytest.raises(ValueError):
        wire.amount_minor(text, currency)


@pytest.mark.parametrize("minor", [0, -1, 12.5, True])
def test_a_non_positive_or_fractional_minor_amount_is_refused(minor) -> None:
    with pytest.raises(ProviderRejected):
        wire.amount_text(minor, "HKD")


# --- checkout: a signed redirect, no server call ------------------------------------------


def _no_calls(request: httpx.Request) -> httpx.Response:
    raise AssertionError("checkout must not call Alipay")


def test_checkout_is_a_signed_gateway_redirect_without_any_call() -> None:
    record, account = tenant("harbour")
    before = datetime.now(SHANGHAI).replace(microsecond=0)

    checkout = ADAPTER.create_checkout(
        checkout_request(), account, httpx.Client(transport=httpx.MockTransport(_no_calls))
    )

    parts = urlsplit(checkout.redirect_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == API_BASE + "/gateway.do"
    params = dict(parse_qsl(parts.query))
    assert app_signature_holds(params, record)
    assert {
        k: params[k] for k in ("app_id", "method", "format", "charset", "sign_type", "version")
    } == {
        "app_id": account.settings["app_id"],
        "method": "alipay.trade.page.pay",
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "version": "1.0",
    }
    sent = datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    assert timedelta(0) <= sent - before <= timedelta(seconds=5)  # Beijing time, no offset
    assert params["notify_url"] == "http://127.0.0.1:3000/webhooks/payments/alipay/harbour"
    assert params["return_url"] == "http://127.0.0.1:3000/receipt/HX-7K2M9Q4P"
    assert json.loads(params["biz_content"]) == {
        "out_trade_no": PAYMENT_ID,
        "total_amount": "12.34",
        "subject": "Parcel HX-7K2M9Q4P",
        "product_code": "FAST_INSTANT_TRADE_PAY",
        "trans_currency": "HKD",
    }
    assert checkout.provider_reference == PAYMENT_ID


def test_the_same_payment_always_names_the_same_trade() -> None:
    _, account = tenant("harbour")
    links = [ADAPTER.create_checkout(checkout_request(), account, httpx.Client()) for _ in range(2)]
    biz = [
        json.loads(dict(parse_qsl(urlsplit(c.redirect_url).query))["biz_content"]) for c in links
    ]
    assert biz[0] == biz[1]  # out_trade_no is Alipay's idempotency key
    assert links[0].provider_reference == links[1].provider_reference


def test_a_cny_payment_sends_no_trans_currency_and_a_subject_loses_forbidden_characters() -> None:
    _, account = tenant("harbour")
    checkout = ADAPTER.create_checkout(
        checkout_request(currency="CNY", description="A/B=C&D"), account, httpx.Client()
    )
    biz = json.loads(dict(parse_qsl(urlsplit(checkout.redirect_url).query))["biz_content"])
    assert "trans_currency" not in biz
    assert biz["subject"] == "A B C D"


def test_a_garbled_app_key_is_rejected_not_crashed() -> None:
    _, account = tenant("harbour")
    broken = ProviderAccount(
        "alipay", API_BASE, account.settings, {**account.secrets, "app_private_key": "x"}
    )
    with pytest.raises(ProviderRejected, match="app_private_key"):
        ADAPTER.create_checkout(checkout_request(), broken, httpx.Client())


def test_bare_base64_keys_as_the_open_platform_shows_them_are_accepted() -> None:
    record, account = tenant("harbour")

    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    secrets = {k: bare(v) for k, v in account.secrets.items()}
    plain = ProviderAccount("alipay", API_BASE, account.settings, secrets)
    checkout = ADAPTER.create_checkout(checkout_request(), plain, httpx.Client())
    assert app_signature_holds(dict(parse_qsl(urlsplit(checkout.redirect_url).query)), record)
    assert len(verify(notify_body(record, "notify_trade_success.json"), account=plain)) == 1


# --- query, refund, capture ---------------------------------------------------------------


def test_fetch_posts_a_signed_trade_query_and_reads_the_verified_answer() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.query": fields("query_trade_success.json")})

    payment = ADAPTER.fetch_payment(PAYMENT_ID, account, fake.client())

    (request,) = fake.requests
    assert (request.method, request.url.path) == ("POST", "/alipay/gateway.do")
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert fake.seen[0]["method"] == "alipay.trade.query"
    assert fake.biz() == {"out_trade_no": PAYMENT_ID}
    assert (payment.provider_reference, payment.status) == (PAYMENT_ID, P.SUCCEEDED)
    assert (payment.amount_minor, payment.currency) == (1234, "HKD")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("query_wait_buyer_pay.json", P.PENDING),
        ("query_closed_unpaid.json", P.FAILED),
        ("query_closed_after_full_refund.json", P.SUCCEEDED),
    ],
)
def test_fetch_maps_each_trade_status(name: str, expected: P) -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.query": fields(name)})
    assert ADAPTER.fetch_payment(PAYMENT_ID, account, fake.client()).status is expected


def test_an_answer_signed_by_another_key_is_not_believed() -> None:
    record, account = tenant("harbour")
    other, _ = tenant("dragon")
    fake = FakeGateway(
        record, {"alipay.trade.query": fields("query_trade_success.json")}, signer=other
    )
    with pytest.raises(ProviderRejected, match="sign does not match"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, fake.client())


def test_the_answer_sign_covers_the_raw_node_text_not_a_reserialization() -> None:
    record, account = tenant("harbour")
    node = fields("query_trade_success.json")
    text = json.dumps(node, ensure_ascii=False, separators=(", ", ": "))
    compact = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    signed_compact = alipay_sign(record, compact.encode())  # signed over other bytes, same JSON
    body = f'{{"alipay_trade_query_response": {text}, "sign": "{signed_compact}"}}'.encode()
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    with pytest.raises(ProviderRejected, match="sign does not match"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, client)


def test_a_decoy_node_inside_a_string_is_not_what_gets_checked() -> None:
    record, account = tenant("harbour")
    node = fields("query_trade_success.json")
    text = json.dumps(node, ensure_ascii=False)
    decoy = json.dumps({**node, "trade_status": "WAIT_BUYER_PAY"})
    body = (
        f'{{"note": {json.dumps(chr(34) + "alipay_trade_query_response" + chr(34) + ": " + decoy)}, '
        f'"alipay_trade_query_response": {text}, "sign": "{alipay_sign(record, text.encode())}"}}'
    ).encode()
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    assert ADAPTER.fetch_payment(PAYMENT_ID, account, client).status is P.SUCCEEDED


def test_an_unsigned_success_is_not_believed_but_an_unsigned_error_is_an_error() -> None:
    record, account = tenant("harbour")
    unsigned = answer_body(None, "alipay.trade.query", fields("query_trade_success.json"))
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=unsigned))
    )
    with pytest.raises(ProviderRejected, match="unsigned success"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, client)
    error = fixture("invalid_signature_unsigned.txt")
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=error))
    )
    with pytest.raises(ProviderRejected, match="isv.invalid-signature"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, client)


def test_a_trade_the_buyer_never_opened_is_refused_by_name() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.query": fields("query_trade_not_exist.json")})
    with pytest.raises(ProviderRejected, match="ACQ.TRADE_NOT_EXIST"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, fake.client())


def test_an_answer_about_another_trade_is_refused() -> None:
    record, account = tenant("harbour")
    node = fields("query_trade_success.json", out_trade_no="someone-else")
    fake = FakeGateway(record, {"alipay.trade.query": node})
    with pytest.raises(ProviderRejected, match="another trade"):
        ADAPTER.fetch_payment(PAYMENT_ID, account, fake.client())


def test_refund_sends_our_refund_id_as_out_request_no_and_fund_change_y_succeeds() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.refund": fields("refund_fund_change_y.json")})

    result = ADAPTER.refund(PAYMENT_ID, 200, "HKD", REFUND_ID, "idem-r1", account, fake.client())

    assert fake.seen[0]["method"] == "alipay.trade.refund"
    assert fake.biz() == {
        "out_trade_no": PAYMENT_ID,
        "refund_amount": "2.00",
        "out_request_no": REFUND_ID,
    }
    assert (result.status, result.amount_minor) == (R.SUCCEEDED, 200)
    assert result.refund_reference == result.merchant_reference == REFUND_ID


def test_a_repeated_refund_moves_no_money_and_is_read_back_by_out_request_no() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(
        record,
        {
            "alipay.trade.refund": fields("refund_fund_change_n.json"),
            "alipay.trade.fastpay.refund.query": fields("refund_query_found.json"),
        },
    )

    result = ADAPTER.refund(PAYMENT_ID, 200, "HKD", REFUND_ID, "idem-r1", account, fake.client())

    assert [p["method"] for p in fake.seen] == [
        "alipay.trade.refund",
        "alipay.trade.fastpay.refund.query",
    ]
    assert fake.biz(1) == {"out_trade_no": PAYMENT_ID, "out_request_no": REFUND_ID}
    assert (result.status, result.amount_minor, result.refund_reference) == (
        R.SUCCEEDED,
        200,
        REFUND_ID,
    )


def test_a_refund_alipay_cannot_find_yet_is_pending() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(
        record,
        {
            "alipay.trade.refund": fields("refund_fund_change_n.json"),
            "alipay.trade.fastpay.refund.query": fields("refund_query_not_found.json"),
        },
    )
    result = ADAPTER.refund(PAYMENT_ID, 200, "HKD", REFUND_ID, "idem-r1", account, fake.client())
    assert result.status is R.PENDING


def test_a_refund_over_the_refundable_amount_is_rejected() -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.refund": fields("refund_amount_exceeded.json")})
    with pytest.raises(ProviderRejected, match="ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"):
        ADAPTER.refund(PAYMENT_ID, 99999, "HKD", REFUND_ID, "k", account, fake.client())


def test_capture_is_not_a_separate_step() -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderRejected, match="does not capture separately"):
        ADAPTER.capture(PAYMENT_ID, "k", account, httpx.Client())


# --- error mapping ------------------------------------------------------------------------


def _answering(status: int, body: bytes) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(status, content=body))
    )


def _failing(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_transport_failures_are_unavailable(exc: Exception) -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderUnavailable):
        ADAPTER.fetch_payment(PAYMENT_ID, account, _failing(exc))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_http_5xx_and_429_are_unavailable(status: int) -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderUnavailable):
        ADAPTER.fetch_payment(PAYMENT_ID, account, _answering(status, b"busy"))


@pytest.mark.parametrize("name", ["system_error.json", "service_unavailable.json"])
def test_alipays_try_again_results_are_unavailable(name: str) -> None:
    record, account = tenant("harbour")
    fake = FakeGateway(record, {"alipay.trade.refund": fields(name)})
    with pytest.raises(ProviderUnavailable):
        ADAPTER.refund(PAYMENT_ID, 200, "HKD", REFUND_ID, "k", account, fake.client())


@pytest.mark.parametrize(
    "body",
    [b"<html>gateway error</html>", b"\xff\xfe", b"[]", b'{"other_response": {}}', b""],
)
def test_unreadable_answers_are_rejected(body: bytes) -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderRejected):
        ADAPTER.fetch_payment(PAYMENT_ID, account, _answering(200, body))


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_http_4xx_are_rejected(status: int) -> None:
    _, account = tenant("harbour")
    with pytest.raises(ProviderRejected):
        ADAPTER.fetch_payment(PAYMENT_ID, account, _answering(status, b"no"))


# --- notifies: believed ---------------------------------------------------------------------


def test_a_signed_trade_success_notify_is_read() -> None:
    record, _ = tenant("harbour")

    (event,) = verify(notify_body(record, "notify_trade_success.json"))

    assert (event.event_id, event.event_type) == (
        "2026112200222111030012345678",
        "trade_status_sync.TRADE_SUCCESS",
    )
    assert event.provider_reference == event.merchant_reference == PAYMENT_ID
    assert (event.payment_status, event.refund_status) == (P.SUCCEEDED, None)
    assert (event.amount_minor, event.currency) == (1234, "HKD")
    assert event.occurred_at == datetime(2026, 11, 22, 3, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notify_trade_closed_unpaid.json", P.FAILED),
        ("notify_trade_finished.json", P.SUCCEEDED),
        ("notify_wait_buyer_pay.json", P.PENDING),
    ],
)
def test_each_trade_status_notify_is_read(name: str, expected: P) -> None:
    record, _ = tenant("harbour")
    (event,) = verify(notify_body(record, name))
    assert event.payment_status is expected
    assert bool(event.failure_reason) == (expected is P.FAILED)


def test_a_close_caused_by_a_full_refund_is_a_refund_event_not_a_failure() -> None:
    record, _ = tenant("harbour")
    (event,) = verify(notify_body(record, "notify_closed_by_full_refund.json"))
    assert (event.payment_status, event.refund_status) == (None, R.SUCCEEDED)
    assert event.refund_reference == event.merchant_reference == REFUND_ID
    assert event.provider_reference == PAYMENT_ID
    assert event.amount_minor is None  # refund_fee is the trade's total refunded, not this refund


def test_a_notify_type_we_do_not_map_is_recorded_with_no_status() -> None:
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json", notify_type="trade_status_async_x")
    (event,) = verify(body)
    assert (event.payment_status, event.refund_status) == (None, None)


def test_our_answer_is_the_word_success() -> None:
    assert ADAPTER.webhook_ack.body == b"success"
    assert ADAPTER.webhook_ack.status_code == 200


def test_the_browsers_return_parameters_can_be_checked_too() -> None:
    record, account = tenant("harbour")
    _, body = build_notify(record, {"out_trade_no": PAYMENT_ID, "total_amount": "12.34"})
    returned = dict(parse_qsl(body.decode()))
    assert notify.verify_return(returned, account)["out_trade_no"] == PAYMENT_ID
    with pytest.raises(WebhookRejected):
        notify.verify_return({**returned, "total_amount": "0.01"}, account)


# --- notifies: refused ----------------------------------------------------------------------


def _resigned(body: bytes, **changes: str) -> bytes:
    """The body with fields changed after signing, the sign left as it was."""
    values = dict(parse_qsl(body.decode(), keep_blank_values=True))
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v != "<drop>"}).encode()


def test_a_notify_signed_with_another_key_is_rejected() -> None:
    """Wrong secret: the same fields, signed by a key that is not this app's Alipay key."""
    record, _ = tenant("harbour")
    other, _ = tenant("dragon")
    impostor = {**other, "app_id": record["app_id"], "seller_id": record["seller_id"]}
    with pytest.raises(WebhookRejected, match="bad sign"):
        verify(notify_body(impostor, "notify_trade_success.json"))


def test_another_tenants_notify_is_rejected() -> None:
    other, _ = tenant("dragon")
    with pytest.raises(WebhookRejected):
        verify(notify_body(other, "notify_trade_success.json"))


def test_a_genuine_notify_for_another_app_id_is_rejected() -> None:
    """Signed with the right key but naming another app: it is not this tenant's trade."""
    record, _ = tenant("harbour")
    elsewhere = {**record, "app_id": "2021000000000001"}
    with pytest.raises(WebhookRejected, match="another app_id"):
        verify(notify_body(elsewhere, "notify_trade_success.json"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("total_amount", "1234.00"),
        ("trade_status", "TRADE_CLOSED"),
        ("out_trade_no", "0190f3a2-1111-7000-8000-000000000002"),
        ("notify_id", "2026112200222111030099999999"),
        ("notify_time", "2026-11-22 11:10:35"),
        ("buyer_id", "2088000000000000"),
        ("app_id", "2021000000000001"),
    ],
)
def test_any_changed_field_is_rejected(name: str, value: str) -> None:
    record, _ = tenant("harbour")
    with pytest.raises(WebhookRejected):
        verify(_resigned(notify_body(record, "notify_trade_success.json"), **{name: value}))


def test_an_added_or_removed_field_is_rejected() -> None:
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json")
    for changed in (_resigned(body, refund_fee="12.34"), _resigned(body, gmt_payment="<drop>")):
        with pytest.raises(WebhookRejected, match="bad sign"):
            verify(changed)


def test_one_changed_byte_is_rejected() -> None:
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json")
    index = body.index(b"total_amount=") + len(b"total_amount=")
    changed = body[:index] + b"9" + body[index + 1 :]
    with pytest.raises(WebhookRejected):
        verify(changed)


def test_a_reencoded_body_with_the_same_fields_is_accepted_by_design() -> None:
    """Alipay signs the fields, not the bytes: reordering the fields or percent-encoding them
    differently ("+" or "%20", upper or lower hex) is the same notify, and the same event id
    keeps a second copy out of the inbox. Any changed field fails (the tests above)."""
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json")
    values = list(parse_qsl(body.decode()))

    def lower_hex(text: str) -> str:
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe=""))

    reencoded = "&".join(f"{k}={lower_hex(v)}" for k, v in reversed(values))
    assert reencoded.encode() != body
    (original,) = verify(body)
    (again,) = verify(reencoded.encode())
    assert again == original


def test_a_missing_sign_is_rejected() -> None:
    """Alipay's notify carries no signature header: `sign` is a field of the body."""
    record, _ = tenant("harbour")
    with pytest.raises(WebhookRejected, match="no sign"):
        verify(_resigned(notify_body(record, "notify_trade_success.json"), sign="<drop>"))


def test_a_non_rsa2_sign_type_is_rejected() -> None:
    record, _ = tenant("harbour")
    with pytest.raises(WebhookRejected, match="RSA2"):
        verify(_resigned(notify_body(record, "notify_trade_success.json"), sign_type="RSA"))


@pytest.mark.parametrize(
    "age", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)]
)
def test_a_stale_or_future_notify_time_is_rejected(age: timedelta) -> None:
    """notify_time is a signed field, so it cannot be freshened without breaking the sign."""
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json", at=NOW)
    with pytest.raises(WebhookRejected, match="stale"):
        verify(body, at=NOW + age)


def test_a_notify_time_inside_the_tolerance_is_accepted() -> None:
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json", at=NOW)
    assert len(verify(body, at=NOW + timedelta(seconds=299))) == 1


def test_a_notify_without_notify_time_is_rejected() -> None:
    record, _ = tenant("harbour")
    values = {**fields("notify_trade_success.json"), "app_id": record["app_id"], "notify_id": "n1"}
    from backend.sandbox.payments.alipay import sign_params

    body = urlencode(sign_params(record, values)).encode()
    with pytest.raises(WebhookRejected, match="notify_time"):
        verify(body)


def test_a_field_sent_twice_is_rejected() -> None:
    record, _ = tenant("harbour")
    body = notify_body(record, "notify_trade_success.json")
    with pytest.raises(WebhookRejected, match="twice"):
        verify(body + b"&trade_status=TRADE_SUCCESS")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe\xfd",
        "trade_status=成功".encode(),
        b"notify_id=%ff%fe&sign=x",
        b"not a form",
        b"a=1&&b=2",
        b"x=" + b"a" * (256 * 1024),
        b"&".join(b"f%d=1" % i for i in range(200)),
        b"sign=%00&notify_id=1",
    ],
)
def test_malformed_bodies_are_rejected_never_crash(body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        verify(body)


def test_a_signed_notify_with_an_unreadable_amount_or_time_is_rejected() -> None:
    record, _ = tenant("harbour")
    for changes in ({"total_amount": "twelve"}, {"gmt_payment": "22/11/2026"}):
        with pytest.raises(WebhookRejected):
            verify(notify_body(record, "notify_trade_success.json", **changes))


# --- the demo provisioning ------------------------------------------------------------------


def test_provision_makes_matching_fresh_keys_for_both_sides() -> None:
    info = DemoTenant(
        "h", "Harbour", "HKD", "http://127.0.0.1:8790", "", "http://127.0.0.1:3000/wh"
    )
    first, second = provision(info), provision(info)
    record = first.sandbox_record
    assert first.api_base == "http://127.0.0.1:8790/alipay"
    assert first.sandbox_key == record["app_id"] == first.settings["app_id"]
    assert (
        record["merchant_name"] == "Harbour" and record["webhook_url"] == "http://127.0.0.1:3000/wh"
    )
    app_key = signing.private_key(first.secrets["app_private_key"])
    alipay_public = signing.public_key(first.secrets["alipay_public_key"])
    assert signing.verify(
        signing.public_key(record["app_public_key"]), "x=1", signing.sign(app_key, "x=1")
    )
    assert signing.verify(alipay_public, "y=2", alipay_sign(record, b"y=2"))
    assert "alipay_private_key" not in first.secrets  # Alipay's own key never reaches us
    assert first.secrets["app_private_key"] != second.secrets["app_private_key"]
