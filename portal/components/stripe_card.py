"""Stripe.js card fields on our page: mount a card Element, confirm the PaymentIntent, go to the receipt.

Card data never reaches our server: Stripe.js (loaded from the account's `js_url`)
owns the card field and sends it to Stripe with the intent's client secret. The
component only renders a root with the checkout's client fields as data attributes,
an empty div for the Element, a line for Stripe's error message and the Pay button;
STRIPE_CARD_JS does the rest in the browser (tests/integration/payments/
test_stripe_js_flow.py drives this same script in Chromium against localstripe).

Wiring (one page, one payment): put `Checkout.client_fields` and the receipt URL in
the page's state (the client secret is meant for this browser, so a public var is
fine; it is not a card number) and render
`stripe_card(publishable_key=S.pk, client_secret=S.secret, js_url=S.js_url,
return_url=S.receipt_url, locale=S.locale, pay_label=t("pay.button"))`.
After a successful confirmation the browser goes to `return_url` with
`payment_intent=<pi id>&redirect_status=succeeded` added, as Stripe's own redirect does.
"""

from __future__ import annotations

import json

import reflex as rx

ROOT_ID = "wb-stripe-card"

# Reads its configuration from the root's data attributes at the moment it needs them,
# because Reflex may mount the component before the page's state has arrived.
STRIPE_CARD_JS = r"""
(function () {
  if (window.waybillStripeCard) return;
  const scripts = {};
  const loadScript = (src) => {
    if (!scripts[src]) {
      scripts[src] = new Promise((resolve, reject) => {
        const tag = document.createElement('script');
        tag.src = src;
        tag.onload = () => resolve();
        tag.onerror = () => { delete scripts[src]; reject(new Error('Stripe.js did not load')); };
        document.head.appendChild(tag);
      });
    }
    return scripts[src];
  };
  const configOf = (root) => ({
    publishableKey: root.dataset.publishableKey || '',
    clientSecret: root.dataset.clientSecret || '',
    jsUrl: root.dataset.jsUrl || '',
    returnUrl: root.dataset.returnUrl || '',
    locale: root.dataset.locale || 'auto',
  });
  const ready = (config) => config.publishableKey && config.clientSecret && config.jsUrl;
  const waitForConfig = async (root) => {
    for (let i = 0; i < 200 && !ready(configOf(root)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return ready(configOf(root)) ? configOf(root) : null;
  };

  const mount = async (rootId) => {
    const root = document.getElementById(rootId);
    if (!root || root.dataset.stripeMounted) return;
    root.dataset.stripeMounted = 'yes';
    const field = root.querySelector('[data-stripe-field]');
    const error = root.querySelector('[data-stripe-error]');
    const button = root.querySelector('[data-stripe-pay]');
    const show = (message) => { error.textContent = message || ''; };
    button.disabled = true;
    const config = await waitForConfig(root);
    try {
      if (!config) throw new Error('no client fields');
      await loadScript(config.jsUrl);
    } catch (failed) {
      show(root.dataset.loadError || failed.message);
      delete root.dataset.stripeMounted;
      return;
    }
    const stripe = window.Stripe(config.publishableKey, {locale: config.locale});
    const card = stripe.elements().create('card');
    card.mount(field);
    card.on('change', (event) => show(event && event.error ? event.error.message : ''));
    button.disabled = false;
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      button.disabled = true;
      show('');
      const current = configOf(root);
      let result;
      try {
        result = await stripe.confirmCardPayment(current.clientSecret, {payment_method: {card}});
      } catch (failed) {
        result = {error: {message: failed.message}};
      }
      if (result.error) {
        show(result.error.message || root.dataset.payError || 'The payment failed.');
        button.disabled = false;
        return;
      }
      const intent = result.paymentIntent;
      const target = new URL(current.returnUrl || window.location.href, window.location.href);
      target.searchParams.set('payment_intent', intent.id);
      target.searchParams.set('redirect_status', intent.status);
      window.location.assign(target.toString());
    });
  };
  window.waybillStripeCard = {mount};
})();
"""


def mount_script(root_id: str = ROOT_ID) -> str:
    """The script that defines the card logic (once) and mounts the card under `root_id`."""
    return f"{STRIPE_CARD_JS}\nwindow.waybillStripeCard.mount({json.dumps(root_id)});"


def stripe_card(
    *,
    publishable_key: rx.Var | str,
    client_secret: rx.Var | str,
    js_url: rx.Var | str,
    return_url: rx.Var | str,
    locale: rx.Var | str = "auto",
    pay_label: rx.Var | str = "Pay",
    load_error: rx.Var | str = "The card form could not be loaded. Please reload the page.",
    root_id: str = ROOT_ID,
) -> rx.Component:
    """The card field, Stripe's error line and the Pay button (one per page)."""
    return rx.el.div(
        rx.el.div(
            id=f"{root_id}-field",
            class_name="stripe-card-field",
            custom_attrs={"data-stripe-field": ""},
        ),
        rx.el.p(
            id=f"{root_id}-error",
            role="alert",
            aria_live="polite",
            class_name="field-error",
            custom_attrs={"data-stripe-error": ""},
        ),
        rx.el.button(
            pay_label,
            id=f"{root_id}-pay",
            type="button",
            class_name="stripe-card-pay",
            custom_attrs={"data-stripe-pay": ""},
        ),
        id=root_id,
        class_name="stripe-card",
        custom_attrs={
            "data-publishable-key": publishable_key,
            "data-client-secret": client_secret,
            "data-js-url": js_url,
            "data-return-url": return_url,
            "data-locale": locale,
            "data-load-error": load_error,
        },
        on_mount=rx.call_script(mount_script(root_id)),
    )
