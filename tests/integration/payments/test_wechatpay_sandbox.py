"""WeChat Pay against the sandbox: a real `python -m backend.sandbox`, the real adapter, real notifications."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

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
from backend.integrations.payments.wechatpay import api
from backend.integrations.payments.wechatpay.adapter import WeChatPayAdapter
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.wechatpay import provision
from tests.integration.payments.conftest import (
    Received,
    Services,
    WebhookReceiver,
    press,
    start_provider_sandbox,
)

TENANTS = ("harbour-express", "pearl-couriers")
ADAPTER = WeChatPayAdapter()


def hook_path(tenant: str) -> str:
    return f"/webhooks/payments/wechatpay/{tenant}"


@dataclass
class WeChatSandbox:
    url: str
    provisions: dict[str, DemoProvision]
    receiver: WebhookReceiver

    def account(self, tenant: str) -> ProviderAccount:
        found = self.provisions[tenant]
        return ProviderAccount("wechatpay", found.api_base, found.settings, found.secrets)

    def verified(self, tenant: str, hit: Received) -> list[PaymentEvent]:
        with httpx.Client(trust_env=False) as client:
            return ADAPTER.verify_webhook(
                hit.headers, hit.body, self.account(tenant), hit.arrived_at, client
            )

    def events(
        self, tenant: str, event_type: str, reference: str
    ) -> list[tuple[Received, PaymentEvent]]:
        """Every notification for `tenant` of that type about `reference` (payment or refund id)."""
        found = []
        for hit in self.receiver.received(hook_path(tenant)):
            if hit.json().get("event_type") != event_type:
                continue
            for event in self.verified(tenant, hit):
                if reference in (event.merchant_reference, event.provider_reference):
                    found.append((hit, event))
        return found

    def event(
        self, tenant: str, event_type: str, reference: str, timeout: float = 15
    ) -> PaymentEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(tenant, event_type, reference)
            if found:
                return found[0][1]
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} for {reference}")


@pytest.fixture(scope="module")
def sandbox(
    services: Services, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> WeChatSandbox:
    url, provisions = start_provider_sandbox(
        services,
        webhook_receiver,
        tmp_path_factory.mktemp("wechatpay"),
        "wechatpay",
        provision,
        TENANTS,
        hook_path,
    )
    return WeChatSandbox(url, provisions, webhook_receiver)


def checkout_request(sandbox: WeChatSandbox, tenant: str, **changes) -> CheckoutRequest:
    payment_id = str(uuid.uuid4())
    values = {
        "payment_id": payment_id,
        "idempotency_key": f"idem-{uuid.uuid4()}",
        "amount_minor": 12850,
        "currency": "HKD",
        "description": "Parcel delivery, Kwun Tong to Sha Tin",
        "order_reference": "WB-1042",
        "customer_email": "mei@example.com",
        "locale": "zh-HK",
        "return_url": f"http://127.0.0.1:9/pay/return/{payment_id}",
        "cancel_url": f"http://127.0.0.1:9/pay/cancel/{payment_id}",
        "notify_url": sandbox.receiver.url + hook_path(tenant),
        **changes,
    }
    return CheckoutRequest(**values)


def test_pay_notify_fetch_and_refund_once(sandbox: WeChatSandbox, http: httpx.Client) -> None:
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)

    checkout = ADAPTER.create_checkout(request, account, http)
    assert checkout.redirect_url.startswith(f"{sandbox.url}/wechatpay/h5pay/checkmweb?prepay_id=")
    page = http.get(checkout.redirect_url)
    assert page.status_code == 200
    assert "Pay in WeChat" in page.text and "Harbour Express" in page.text
    assert "HKD 128.50" in page.text
    back = press(http, checkout.redirect_url, "pay")
    assert back.status_code == 303
    assert back.headers["location"] == request.return_url

    paid = sandbox.event(tenant, "TRANSACTION.SUCCESS", request.payment_id)
    assert paid.payment_status is P.SUCCEEDED
    assert paid.merchant_reference == request.payment_id
    assert paid.provider_reference == checkout.provider_reference
    assert (paid.amount_minor, paid.currency) == (12850, "HKD")
    fetched = ADAPTER.fetch_payment(checkout.provider_reference, account, http)
    assert (fetched.status, fetched.amount_minor, fetched.currency) == (P.SUCCEEDED, 12850, "HKD")

    refund_id = str(uuid.uuid4())
    refund = ADAPTER.refund(
        checkout.provider_reference, 2000, "HKD", refund_id, "k1", account, http
    )
    assert (refund.status, refund.amount_minor, refund.merchant_reference) == (
        R.PENDING,
        2000,
        refund_id,
    )
    refunded = sandbox.event(tenant, "REFUND.SUCCESS", refund_id)
    assert refunded.refund_status is R.SUCCEEDED
    assert refunded.refund_reference == refund.refund_reference
    assert refunded.provider_reference == checkout.provider_reference

    again = ADAPTER.refund(checkout.provider_reference, 2000, "HKD", refund_id, "k1", account, http)
    assert (again.refund_reference, again.status) == (refund.refund_reference, R.SUCCEEDED)
    rest = ADAPTER.refund(
        checkout.provider_reference, 10850, "HKD", str(uuid.uuid4()), "k2", account, http
    )
    assert rest.amount_minor == 10850  # the repeat took nothing: all the rest was still there
    with pytest.raises(ProviderRejected, match="INVALID_REQUEST"):
        ADAPTER.refund(
            checkout.provider_reference, 1, "HKD", str(uuid.uuid4()), "k3", account, http
        )
    time.sleep(1.0)  # a second REFUND.SUCCESS for the repeated refund would be out by now
    assert len(sandbox.events(tenant, "REFUND.SUCCESS", refund_id)) == 1
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.SUCCEEDED


def test_a_declined_payment_is_failed_and_the_browser_still_returns(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    """WeChat sends no notification for a failed payment: the query tells."""
    account = sandbox.account("harbour-express")
    request = checkout_request(sandbox, "harbour-express")
    checkout = ADAPTER.create_checkout(request, account, http)

    back = press(http, checkout.redirect_url, "decline")

    assert (back.status_code, back.headers["location"]) == (303, request.return_url)
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.FAILED
    assert sandbox.events("harbour-express", "TRANSACTION.SUCCESS", request.payment_id) == []


def test_cancel_returns_to_redirect_url_and_leaves_the_order_unpaid(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    """H5 pay has one redirect_url for every outcome (no cancel URL exists): the order stays
    NOTPAY, which the receipt page reads as still pending."""
    account = sandbox.account("harbour-express")
    request = checkout_request(sandbox, "harbour-express")
    checkout = ADAPTER.create_checkout(request, account, http)

    back = press(http, checkout.redirect_url, "cancel")

    assert (back.status_code, back.headers["location"]) == (303, request.return_url)
    assert ADAPTER.fetch_payment(checkout.provider_reference, account, http).status is P.PENDING
    retry = press(http, checkout.redirect_url, "pay")  # the customer changes their mind
    assert retry.status_code == 303


def test_one_payment_id_gives_one_order_and_other_terms_are_refused(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    account = sandbox.account("harbour-express")
    request = checkout_request(sandbox, "harbour-express")

    first = ADAPTER.create_checkout(request, account, http)
    second = ADAPTER.create_checkout(request, account, http)

    assert first == second
    with pytest.raises(ProviderRejected, match="out_trade_no duplicate"):
        ADAPTER.create_checkout(
            checkout_request(
                sandbox, "harbour-express", payment_id=request.payment_id, amount_minor=1
            ),
            account,
            http,
        )
    press(http, second.redirect_url, "pay")
    assert press(http, first.redirect_url, "pay").status_code == 409  # the same order, paid once


def test_another_tenants_notification_is_rejected(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    other = "pearl-couriers"
    request = checkout_request(sandbox, other)
    checkout = ADAPTER.create_checkout(request, sandbox.account(other), http)
    press(http, checkout.redirect_url, "pay")
    assert (
        sandbox.event(other, "TRANSACTION.SUCCESS", request.payment_id).payment_status
        is P.SUCCEEDED
    )
    (hit, _), *_ = sandbox.events(other, "TRANSACTION.SUCCESS", request.payment_id)

    with pytest.raises(WebhookRejected):
        sandbox.verified("harbour-express", hit)


def test_a_refused_notification_is_sent_again_with_the_same_id_and_a_fresh_signature(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    tenant, account = "harbour-express", sandbox.account("harbour-express")
    request = checkout_request(sandbox, tenant)
    checkout = ADAPTER.create_checkout(request, account, http)
    sandbox.receiver.answer_next(hook_path(tenant), 500)

    press(http, checkout.redirect_url, "pay")

    deadline = time.monotonic() + 15
    while len(sandbox.events(tenant, "TRANSACTION.SUCCESS", request.payment_id)) < 2:
        assert time.monotonic() < deadline, "the notification was not sent again"
        time.sleep(0.05)
    (first, one), (second, two) = sandbox.events(tenant, "TRANSACTION.SUCCESS", request.payment_id)
    assert one.event_id == two.event_id  # the inbox keeps it once
    assert first.body == second.body
    assert first.headers["Wechatpay-Nonce"] != second.headers["Wechatpay-Nonce"]


def test_a_request_signed_with_the_wrong_merchant_key_gets_sign_error(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    ours, theirs = sandbox.account("harbour-express"), sandbox.account("pearl-couriers")
    wrong_key = ProviderAccount(
        "wechatpay",
        ours.api_base,
        ours.settings,
        {**ours.secrets, "merchant_private_key": theirs.secrets["merchant_private_key"]},
    )
    with pytest.raises(ProviderRejected, match="401 SIGN_ERROR"):
        ADAPTER.fetch_payment(str(uuid.uuid4()), wrong_key, http)


@pytest.mark.parametrize(
    ("path", "payload", "code"),
    [
        ("/v3/pay/transactions/h5", {"nothing": "useful"}, "APPID_MCHID_NOT_MATCH"),
        (
            "/v3/refund/domestic/refunds",
            {"out_refund_no": "r1", "out_trade_no": "x" * 10},
            "PARAM_ERROR",
        ),
        ("/v3/refund/domestic/refunds", [1, 2], "PARAM_ERROR"),
    ],
)
def test_bad_input_is_a_wechat_400_never_a_500(sandbox, http, path, payload, code) -> None:
    with pytest.raises(ProviderRejected, match=f"400 {code}"):
        api.send(http, sandbox.account("harbour-express"), "POST", path, payload)


def test_an_unknown_order_is_a_404_order_not_exist(
    sandbox: WeChatSandbox, http: httpx.Client
) -> None:
    with pytest.raises(ProviderRejected, match="404 ORDER_NOT_EXIST"):
        ADAPTER.fetch_payment(str(uuid.uuid4()), sandbox.account("harbour-express"), http)
