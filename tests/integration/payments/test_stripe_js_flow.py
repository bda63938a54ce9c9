"""The card page's script (portal/components/stripe_card.py) in Chromium against localstripe.

A plain HTML page with the component's markup and the very same STRIPE_CARD_JS, served
from its own origin, loads Stripe.js from the tenant's localstripe like the portal page
does. No Reflex build is involved: this pins the browser half of the flow.
"""

from __future__ import annotations

import html
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.domain.statuses import PaymentStatus as P
from backend.integrations.payments.base import CheckoutRequest
from backend.integrations.payments.stripe.adapter import StripeAdapter
from portal.components.stripe_card import ROOT_ID, mount_script

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADAPTER = StripeAdapter()


class CardPages:
    """Serves one card page per checkout at /pay/<n>, and the receipt page at /receipt."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self._ids = itertools.count(1)
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = urlsplit(self.path).path
                body = pages.get(path) if path != "/receipt" else "<h1>Receipt</h1>"
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "").encode())

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def add(self, fields: dict[str, str], *, secret_arrives_late: bool = False) -> str:
        """The component's markup with the checkout's client fields as data attributes."""
        secret = "" if secret_arrives_late else fields["client_secret"]
        attrs = {
            "data-publishable-key": fields["publishable_key"],
            "data-client-secret": secret,
            "data-js-url": fields["js_url"],
            "data-return-url": f"{self.url}/receipt",
            "data-locale": fields.get("locale", "auto"),
        }
        late = ""
        if secret_arrives_late:  # as when Reflex mounts before the page's state arrives
            root, value = json.dumps(ROOT_ID), json.dumps(fields["client_secret"])
            late = (
                f"setTimeout(() => {{ document.getElementById({root}).dataset.clientSecret"
                f" = {value}; }}, 700);"
            )
        markup = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        path = f"/pay/{next(self._ids)}"
        self.pages[path] = f"""<!doctype html><html><body>
<div id="{ROOT_ID}" class="stripe-card" {markup}>
  <div id="{ROOT_ID}-field" data-stripe-field=""></div>
  <p id="{ROOT_ID}-error" role="alert" aria-live="polite" data-stripe-error=""></p>
  <button id="{ROOT_ID}-pay" type="button" data-stripe-pay="">Pay</button>
</div>
<script>{late}</script>
<script>{mount_script(ROOT_ID)}</script>
</body></html>"""
        return self.url + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def card_pages() -> Iterator[CardPages]:
    pages = CardPages()
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def checkout(tenant, http: httpx.Client):
    payment_id = str(uuid.uuid4())
    request = CheckoutRequest(
        payment_id=payment_id,
        idempotency_key=f"checkout-{payment_id}",
        amount_minor=8800,
        currency="HKD",
        description="Parcel WB987654321HK",
        order_reference="ORD-3001",
        customer_email="amy@example.com",
        locale="en",
        return_url="unused: the page has its own",
        cancel_url="unused",
        notify_url="unused",
    )
    return request, ADAPTER.create_checkout(request, tenant.account, http)


def type_card(page, number: str) -> None:
    field = page.locator(f"#{ROOT_ID}-field")
    field.locator("input[placeholder=number]").fill(number)
    field.locator("input[placeholder=exp_month]").fill("12")
    field.locator("input[placeholder=exp_year]").fill("30")
    field.locator("input[placeholder=cvc]").fill("123")
    field.locator("input[placeholder=postal_code]").fill("00000")


def arrived(receiver, tenant, event_type: str, intent_id: str):
    def match(hit) -> bool:
        event = hit.json()
        return (
            hit.path == tenant.webhook_path
            and event["type"] == event_type
            and event["data"]["object"]["id"] == intent_id
        )

    return receiver.wait_for(match)


def test_card_4242_pays_goes_to_the_receipt_and_the_signed_webhook_arrives(
    stripe_tenants, webhook_receiver, card_pages, page, http
):
    east = stripe_tenants["stripe-east"]
    request, made = checkout(east, http)
    page.goto(card_pages.add(dict(made.client_fields), secret_arrives_late=True))
    type_card(page, "4242 4242 4242 4242")
    page.locator(f"#{ROOT_ID}-pay").click()
    page.wait_for_url(f"{card_pages.url}/receipt?*", timeout=15_000)
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"payment_intent": [made.provider_reference], "redirect_status": ["succeeded"]}

    hit = arrived(webhook_receiver, east, "payment_intent.succeeded", made.provider_reference)
    (event,) = ADAPTER.verify_webhook(hit.headers, hit.body, east.account, hit.arrived_at, http)
    assert event.payment_status is P.SUCCEEDED and event.merchant_reference == request.payment_id
    assert ADAPTER.fetch_payment(made.provider_reference, east.account, http).status is P.SUCCEEDED


def test_declined_card_shows_stripes_message_and_stays_for_another_card(
    stripe_tenants, webhook_receiver, card_pages, page, http
):
    east = stripe_tenants["stripe-east"]
    _, made = checkout(east, http)
    pay_url = card_pages.add(dict(made.client_fields))
    page.goto(pay_url)
    type_card(page, "4000000000000002")
    page.locator(f"#{ROOT_ID}-pay").click()
    error = page.locator(f"#{ROOT_ID}-error")
    error.filter(has_text="Your card was declined.").wait_for(timeout=15_000)
    assert page.url == pay_url
    assert page.locator(f"#{ROOT_ID}-pay").is_enabled()
    arrived(webhook_receiver, east, "payment_intent.payment_failed", made.provider_reference)
    assert ADAPTER.fetch_payment(made.provider_reference, east.account, http).status is P.FAILED

    type_card(page, "4242424242424242")
    page.locator(f"#{ROOT_ID}-pay").click()
    page.wait_for_url(f"{card_pages.url}/receipt?*", timeout=15_000)
    assert ADAPTER.fetch_payment(made.provider_reference, east.account, http).status is P.SUCCEEDED


def test_incomplete_card_number_is_refused_in_the_browser(stripe_tenants, card_pages, page, http):
    east = stripe_tenants["stripe-east"]
    _, made = checkout(east, http)
    page.goto(card_pages.add(dict(made.client_fields)))
    type_card(page, "4242")
    page.locator(f"#{ROOT_ID}-pay").click()
    page.locator(f"#{ROOT_ID}-error").filter(has_text="incomplete").wait_for(timeout=15_000)
    assert ADAPTER.fetch_payment(made.provider_reference, east.account, http).status is P.CREATED


def test_3d_secure_card_asks_then_pays(stripe_tenants, webhook_receiver, card_pages, page, http):
    east = stripe_tenants["stripe-east"]
    _, made = checkout(east, http)
    page.goto(card_pages.add(dict(made.client_fields)))
    type_card(page, "4000002500003155")
    page.locator(f"#{ROOT_ID}-pay").click()
    page.get_by_role("button", name="Complete authentication").click(timeout=15_000)
    page.wait_for_url(f"{card_pages.url}/receipt?*", timeout=15_000)
    arrived(webhook_receiver, east, "payment_intent.requires_action", made.provider_reference)
    arrived(webhook_receiver, east, "payment_intent.succeeded", made.provider_reference)


def test_page_without_stripe_js_says_so(stripe_tenants, card_pages, page, http):
    east = stripe_tenants["stripe-east"]
    _, made = checkout(east, http)
    fields = dict(made.client_fields, js_url=f"{card_pages.url}/no-such-script.js")
    page.goto(card_pages.add(fields))
    page.locator(f"#{ROOT_ID}-error").filter(has_text="did not load").wait_for(timeout=15_000)
