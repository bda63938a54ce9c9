"""The payment adapter interface: hosted checkout, webhook verification, re-reads, captures, refunds.

Adapters speak in domain types, get the tenant's account (settings and decrypted
secrets) and an httpx client on every call, and never touch the database. The
provider's SDK, where one is used, is imported only inside its adapter package.
Errors:

    PaymentProviderError
    ├── ProviderUnavailable  timeout, connection error, 429 or 5xx: safe to retry with the same
    │                        idempotency key
    ├── ProviderRejected     any other 4xx, or an answer we cannot read: our request is wrong
    └── WebhookRejected      a webhook with a bad or missing signature, a stale timestamp, a body
                             changed after signing, or one we cannot read: answered with a 4xx
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import httpx

from backend.domain.statuses import PaymentStatus, RefundStatus


class PaymentProviderError(Exception):
    """Base of every error an adapter raises on purpose."""


class ProviderUnavailable(PaymentProviderError):
    pass


class ProviderRejected(PaymentProviderError):
    pass


class WebhookRejected(PaymentProviderError):
    pass


@dataclass(frozen=True)
class ProviderAccount:
    """A tenant's account with one provider, as stored: settings in the clear, secrets decrypted.

    `api_base` is the provider's API root (in the demo, the sandbox's URL for that provider);
    `settings` holds what is not secret (merchant account, app id, client id, publishable
    key, webhook id); `secrets` what is (API keys, webhook secrets, private keys, the
    provider's public key or certificate when it is configured rather than fetched).
    """

    provider: str
    api_base: str
    settings: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def setting(self, name: str) -> str:
        value = self.settings.get(name, "")
        if not value:
            raise ProviderRejected(f"the {self.provider} account has no {name} configured")
        return value

    def secret(self, name: str) -> str:
        value = self.secrets.get(name, "")
        if not value:
            raise ProviderRejected(f"the {self.provider} account has no {name} configured")
        return value


@dataclass(frozen=True)
class CheckoutRequest:
    """What we ask the provider to collect. Amounts are integer minor units."""

    payment_id: str  # ours; sent as the merchant reference, so events can be matched
    idempotency_key: str  # stored before the call: a retry after a timeout creates nothing new
    amount_minor: int
    currency: str
    description: str
    order_reference: str
    customer_email: str
    locale: str  # "en" or "zh-HK"
    return_url: str  # where the provider sends the browser when the customer is done
    cancel_url: str  # where it sends the browser when the customer gives up
    notify_url: str  # our webhook URL for this provider and tenant
    customer_ip: str = ""  # the paying browser's address (WeChat Pay H5 checks it)


@dataclass(frozen=True)
class Checkout:
    """The provider's answer: its reference for the payment and where the customer goes to pay."""

    provider_reference: str
    redirect_url: str  # the provider's hosted page (or our page hosting the provider's fields)
    # For providers whose own fields run on our page (Stripe.js): what that script needs,
    # e.g. {"publishable_key": ..., "client_secret": ..., "js_url": ...}. Never card data.
    client_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    """A refund as the provider reports it."""

    refund_reference: str
    status: RefundStatus
    amount_minor: int
    merchant_reference: str = ""  # our refund id, where the provider echoes it back


@dataclass(frozen=True)
class ProviderPayment:
    """A payment re-read from the provider: the truth when events disagree or arrive out of order."""

    provider_reference: str
    status: PaymentStatus
    amount_minor: int
    currency: str
    refunds: list[RefundResult] = field(default_factory=list)
    # Where a provider names the captured money apart from the payment (PayPal's capture id):
    # later refund and reversal events carry only this.
    capture_reference: str = ""


@dataclass(frozen=True)
class PaymentEvent:
    """One thing a webhook told us, in our vocabulary; the raw body stays in the inbox.

    A payment event sets `payment_status`; a refund event sets `refund_status` (and
    `refund_reference`). `provider_reference` names the payment either way, and
    `merchant_reference` is our payment id (or our refund id) when the provider echoes it.
    """

    event_id: str  # unique per provider and account: the inbox's dedupe key
    event_type: str  # the provider's own name, e.g. "payment_intent.succeeded"
    provider_reference: str
    merchant_reference: str = ""
    payment_status: PaymentStatus | None = None
    refund_status: RefundStatus | None = None
    refund_reference: str = ""
    amount_minor: int | None = None
    currency: str = ""
    occurred_at: datetime | None = None
    failure_reason: str = ""


@dataclass(frozen=True)
class WebhookAck:
    """What the provider expects back once a webhook is stored (Adyen "[accepted]", Alipay "success")."""

    status_code: int = 200
    body: bytes = b""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Capabilities:
    # The customer's approval only authorizes; we capture afterwards (PayPal orders).
    capture_after_approval: bool = False
    partial_refunds: bool = True
    # The provider's fields run on a page of ours (Stripe.js) instead of its hosted page.
    fields_on_our_page: bool = False
    # Signature covers the raw bytes (a re-serialized body fails) rather than named fields.
    signs_raw_body: bool = True
    # The signature carries a timestamp we can hold to a tolerance.
    signed_timestamp: bool = True
    methods: tuple[str, ...] = ("card",)  # shown at checkout, e.g. ("card", "octopus")
    # The signature does not pin the body cryptographically (PayPal signs a CRC32 of it): the
    # worker takes the payment's state from fetch_payment() instead of from the event.
    confirm_events_by_fetch: bool = False
    # fetch_payment() tells the whole truth (False for Adyen: a payment link says only
    # "paid or not", so its re-read may raise a state but never overturn an event).
    fetch_is_authoritative: bool = True
    # refund() takes the reference the provider gave the captured payment in its events
    # (Adyen's pspReference) rather than the one create_checkout() returned (a link id).
    refund_by_capture_reference: bool = False


class PaymentAdapter(Protocol):
    slug: str  # "stripe", "adyen", "checkout", "paypal", "wechatpay", "alipay"
    display_name: str
    capabilities: Capabilities
    webhook_ack: WebhookAck

    def create_checkout(
        self, request: CheckoutRequest, account: ProviderAccount, client: httpx.Client
    ) -> Checkout:
        """Create the provider's payment (session, intent, order...) with the idempotency key."""
        ...

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        account: ProviderAccount,
        now: datetime,
        client: httpx.Client,
    ) -> list[PaymentEvent]:
        """Check the signature over the raw request with this tenant's secret, then read it.

        Raise WebhookRejected for anything not proven to come from the provider. `now` is
        the time the webhook arrived (a replay from the inbox passes its arrival time).
        `client` is for providers whose verification key is fetched (PayPal's certificate,
        WeChat Pay's platform certificate); adapters cache what they fetch.
        """
        ...

    def fetch_payment(
        self, provider_reference: str, account: ProviderAccount, client: httpx.Client
    ) -> ProviderPayment:
        """Re-read the payment (and its refunds) from the provider."""
        ...

    def capture(
        self,
        provider_reference: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> ProviderPayment:
        """Capture an approved payment (only when capabilities.capture_after_approval)."""
        ...

    def refund(
        self,
        provider_reference: str,  # or the capture reference: capabilities.refund_by_capture_reference
        amount_minor: int,
        currency: str,
        refund_id: str,
        idempotency_key: str,
        account: ProviderAccount,
        client: httpx.Client,
    ) -> RefundResult:
        """Refund part or all of a captured payment; the same idempotency key never refunds twice."""
        ...


# Credentials a provider sends in a header (Adyen's basic auth) are checked on arrival and
# never stored: the inbox keeps this marker in their place, and a re-verification of a stored
# row accepts it (a row exists only if its delivery passed the check).
CHECKED_ON_ARRIVAL = "[checked on arrival; not stored]"
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

# Every call carries its own limits, whatever client it is given.
CALL_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_WEBHOOK_BYTES = 256 * 1024


def raise_for_status(response: httpx.Response, provider: str) -> None:
    """Turn a provider's HTTP status into our error tree (shared by the httpx-based adapters)."""
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(f"{provider} answered {response.status_code}")
    if response.status_code >= 400:
        raise ProviderRejected(f"{provider} refused the request: {response.status_code}")


def call(client: httpx.Client, provider: str, method: str, url: str, **request) -> httpx.Response:
    """One HTTP call to a provider with our timeouts; transport failures become ProviderUnavailable."""
    if not url.startswith(("http://", "https://")):
        raise ProviderRejected(f"the {provider} account's api_base must be an http(s) URL")
    try:
        response = client.request(
            method, url, timeout=CALL_TIMEOUT, follow_redirects=False, **request
        )
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{provider} timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"{provider} unreachable ({type(exc).__name__})") from exc
    raise_for_status(response, provider)
    return response


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when absent): webhooks arrive with any casing."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""
