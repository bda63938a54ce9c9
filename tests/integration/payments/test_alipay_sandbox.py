"""Alipay against the sandbox: a real `python -m backend.sandbox`, the real adapter, real notifies."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R
from backend.integrations.payments.alipay import notify
from backend.integrations.payments.alipay.adapter import AlipayAdapter
from backend.integrations.payments.base import (
    CheckoutRequest,
    PaymentEvent,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.alipay import provision
from tests.integration.payments.conftest import (
    Received,
    Services,
    WebhookReceiver,
    press,
    start_provider_sandbox,
)

TENANTS = ("harbour-express", "pearl-couriers")
ADAPTER = AlipayAdapter()


def hook_path(tenant: str) -> str:
    return f"/webhooks/payments/alipay/{tenant}"


def form(hit: Received) -> dict[str, str]:
    return dict(parse_qsl(hit.body.decode()))


@dataclass
class AlipaySandbox:
    url: str
    provisions: dict[str, DemoProvision]
    receiver: WebhookReceiver

    def account(self, tenant: str) -> ProviderAccount:
        found = self.provisions[tenant]
        return ProviderAccount("alipay", found.api_base, found.settings, found.secrets)

    def verified(self, tenant: str, hit: Received) -> list[PaymentEvent]:
        with httpx.Client(trust_env=False) as client:
            return ADAPTER.verify_webhook(
                hit.headers, hit.body, self.account(tenant), hit.arrived_at, client
            )

    def notifies(self, tenant: str, payment_id: str, status: str) -> list[Received]:
        return [
            hit
            for hit in self.receiver.received(hook_path(tenant))
            if form(hit).get("out_trade_no") == payment_id
            and form(hit).get("trade_status") == status
        ]

    def notify(self, tenant: str, payment_id: str, status: str) -> Received:
        return self.receiver.wait_for(lambda hit: hit in self.notifies(tenant, payment_id, status))


@pytest.fixture(scope="module")
def sandbox(
    services: Services, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AlipaySandbox:
    url, provisions = start_provider_sandbox(
        services,
        webhook_receiver,
        tmp_path_factory.mktemp("alipay"),
        "alipay",
        provision,
        TENANTS,
        hook_path,
    )
    return AlipaySandbox(url, provisions, webhook_receiver)


def checkout_request(sandbox: AlipaySandbox, tenant: str, **changes) -> CheckoutRequest:
    payment_id = str(uuid.uuid4())
    values = {
        "payment_id": payment_id,
        "idempotency_key": f"idem-{uuid.uuid4()}",
        "amount_minor": 12850,
        "currency": "HKD",
        "description": "Parcel delivery, Kwun Tong to Sha Tin",
        "order_reference": "WB-1042",
        "customer_email": "mei@example.com",
        "locale": "en",
        "return_url": f"http://127.0.0.1:9/pay/return/{payment_id}",
        "cancel_url": f"http://127.0.0.1:9/pay/cancel/{payment_id}",
        "notify_url": sandbox.receiver.url + hook_path(tenant),
        **changes,
    }
    return CheckoutRequest(**values)


def test_pay_notify_fetch_and_refund_once(sandbox: AlipaySandbox, http: httpx.Client) -> None:
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)

    checkout = ADAPTER.create_checkout(request, account, http)
    assert checkout.redirect_url.startswith(f"{sandbox.url}/alipay/gateway.do?")
    page = http.get(checkout.redirect_url)
    assert page.status_code == 200
    assert "Log in and pay" in page.text and "Harbour Express" in page.text
    assert "HKD 128.50" in page.text
    back = press(http, checkout.redirect_url, "pay")
    assert back.status_code == 303
    location = urlsplit(back.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == request.return_url
    returned = notify.verify_return(dict(parse_qsl(location.query)), account)
    assert (returned["out_trade_no"], returned["total_amount"]) == (request.payment_id, "128.50")

    hit = sandbox.notify(tenant, request.payment_id, "TRADE_SUCCESS")
    (paid,) = sandbox.verified(tenant, hit)
    assert (paid.event_id, paid.payment_status) == (form(hit)["notify_id"], P.SUCCEEDED)
    assert paid.merchant_reference == paid.provider_reference == request.payment_id
    assert (paid.amount_minor, paid.currency) == (12850, "HKD")
    fetched = ADAPTER.fetch_payment(checkout.provider_reference, account, http)
    assert (fetched.status, fetched.amount_minor, fetched.currency) == (P.SUCCEEDED, 12850, "HKD")

    refund_id = str(uuid.uuid4())
    refund = ADAPTER.refund(
        checkout.provider_reference, 2000, "HKD", refund_id, "k1", account, http
    )
    assert (refund.status, refund.amount_minor, refund.merchant_reference) == (
        R.SUCCEEDED,
        2000,
        refund_id,
    )
    again = ADAPTER.refund(checkout.provider_reference, 2000, "HKD", refund_id, "k1", account, http)
    assert (again.status, again.amount_minor, again.refund_reference) == (
        R.SUCCEEDED,
        2000,
        refund_id,
    )
    rest = ADAPTER.refund(
        checkout.provider_reference, 10850, "HKD", str(uuid.uuid4()), "k2", account, http
    )
    assert rest.status is R.SUCCEEDED  # the repeat took nothing: all the rest was still there
    with pytest.raises(ProviderRejected, match="ACQ.TRADE_STATUS_ERROR"):
        ADAPTER.refund(
            checkout.provider_reference, 1, "HKD", str(uuid.uuid4()), "k3", account, http
        )
    # A full refund closes the trade; a closed trade that had been paid still reads as succeeded.
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.SUCCEEDED
    time.sleep(0.5)
    assert len(sandbox.notifies(tenant, request.payment_id, "TRADE_SUCCESS")) == 1
    assert sandbox.notifies(tenant, request.payment_id, "TRADE_CLOSED") == []  # no refund notify


def test_a_declined_payment_closes_unpaid_and_is_failed(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)
    checkout = ADAPTER.create_checkout(request, account, http)
    http.get(checkout.redirect_url)

    back = press(http, checkout.redirect_url, "decline")

    assert (back.status_code, back.headers["location"]) == (303, request.return_url)
    assert ADAPTER.fetch_payment(request.payment_id, account, http).status is P.PENDING
    (closed,) = sandbox.verified(tenant, sandbox.notify(tenant, request.payment_id, "TRADE_CLOSED"))
    assert (closed.payment_status, closed.failure_reason) == (P.FAILED, "closed without payment")
    assert ADAPTER.fetch_payment(request.payment_id, account, http).status is P.FAILED
    assert http.get(checkout.redirect_url).status_code == 400  # closed: it cannot be paid any more


def test_cancel_returns_the_buyer_and_the_trade_closes_unpaid(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    """page.pay has only return_url (quit_url is for the WAP cashier): a buyer who gives up is
    sent back there without Alipay's signed parameters, and the trade closes unpaid."""
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)
    checkout = ADAPTER.create_checkout(request, account, http)

    back = press(http, checkout.redirect_url, "cancel")

    assert (back.status_code, back.headers["location"]) == (303, request.return_url)
    (closed,) = sandbox.verified(tenant, sandbox.notify(tenant, request.payment_id, "TRADE_CLOSED"))
    assert closed.payment_status is P.FAILED


def test_one_payment_id_opens_one_trade(sandbox: AlipaySandbox, http: httpx.Client) -> None:
    account = sandbox.account("harbour-express")
    request = checkout_request(sandbox, "harbour-express")

    first = ADAPTER.create_checkout(request, account, http)
    time.sleep(1.1)  # another timestamp, so another signed link
    second = ADAPTER.create_checkout(request, account, http)

    assert first.provider_reference == second.provider_reference
    assert first.redirect_url != second.redirect_url
    assert http.get(first.redirect_url).status_code == 200
    assert press(http, second.redirect_url, "pay").status_code == 303
    already = http.get(first.redirect_url)
    assert already.status_code == 400 and "ACQ.TRADE_HAS_SUCCESS" in already.text
    changed = ADAPTER.create_checkout(
        checkout_request(sandbox, "harbour-express", payment_id=request.payment_id, amount_minor=1),
        account,
        http,
    )
    assert "ACQ.CONTEXT_INCONSISTENT" in http.get(changed.redirect_url).text


def test_a_tampered_link_gets_alipays_signature_error_page(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    account = sandbox.account("harbour-express")
    checkout = ADAPTER.create_checkout(checkout_request(sandbox, "harbour-express"), account, http)
    tampered = checkout.redirect_url.replace("128.50", "1.28")
    assert tampered != checkout.redirect_url

    page = http.get(tampered)

    assert page.status_code == 400
    assert "isv.invalid-signature" in page.text


def test_another_tenants_notify_is_rejected(sandbox: AlipaySandbox, http: httpx.Client) -> None:
    other = "pearl-couriers"
    request = checkout_request(sandbox, other)
    checkout = ADAPTER.create_checkout(request, sandbox.account(other), http)
    press(http, checkout.redirect_url, "pay")
    hit = sandbox.notify(other, request.payment_id, "TRADE_SUCCESS")
    assert sandbox.verified(other, hit)[0].payment_status is P.SUCCEEDED

    with pytest.raises(WebhookRejected):
        sandbox.verified("harbour-express", hit)


def test_a_refused_notify_is_sent_again_with_the_same_id_and_a_fresh_sign(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)
    checkout = ADAPTER.create_checkout(request, account, http)
    sandbox.receiver.answer_next(hook_path(tenant), 500)

    press(http, checkout.redirect_url, "pay")

    deadline = time.monotonic() + 15
    while len(sandbox.notifies(tenant, request.payment_id, "TRADE_SUCCESS")) < 2:
        assert time.monotonic() < deadline, "the notify was not sent again"
        time.sleep(0.05)
    first, second = sandbox.notifies(tenant, request.payment_id, "TRADE_SUCCESS")[:2]
    assert form(first)["notify_id"] == form(second)["notify_id"]
    assert [e.event_id for e in sandbox.verified(tenant, second)] == [form(first)["notify_id"]]


def test_a_call_signed_with_the_wrong_app_key_is_refused(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    ours, theirs = sandbox.account("harbour-express"), sandbox.account("pearl-couriers")
    wrong_key = ProviderAccount(
        "alipay",
        ours.api_base,
        ours.settings,
        {**ours.secrets, "app_private_key": theirs.secrets["app_private_key"]},
    )
    with pytest.raises(ProviderRejected, match="isv.invalid-signature"):
        ADAPTER.fetch_payment(str(uuid.uuid4()), wrong_key, http)


def test_an_unknown_trade_is_acq_trade_not_exist(
    sandbox: AlipaySandbox, http: httpx.Client
) -> None:
    with pytest.raises(ProviderRejected, match="ACQ.TRADE_NOT_EXIST"):
        ADAPTER.fetch_payment(str(uuid.uuid4()), sandbox.account("harbour-express"), http)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "alipay.trade.nothing"},
        {"method": "alipay.trade.query", "app_id": "2021000000000000"},
        {"method": "alipay.trade.page.pay", "biz_content": "{"},
    ],
)
def test_bad_input_is_an_alipay_error_never_a_500(sandbox, http, params) -> None:
    answer = http.post(f"{sandbox.url}/alipay/gateway.do", data=params)
    assert answer.status_code in (200, 400)
    if answer.headers["content-type"].startswith("application/json"):
        node = next(iter(answer.json().values()))
        assert node["code"] != "10000" and node["sub_code"].startswith("isv.")
