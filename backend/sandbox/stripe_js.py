"""localstripe's fake Stripe.js, its confirmCardPayment made to confirm from the browser like Stripe.js."""

from __future__ import annotations

from pathlib import Path

import localstripe

_JS_ADDENDUM = r"""
// --- appended by Waybill's launcher (backend/sandbox/stripe_js.py) ---
// localstripe's confirmCardPayment only finishes a 3D Secure step for an intent already
// confirmed on the server. Stripe.js confirms the intent from the browser with the card
// element's data (publishable key + client secret), then runs 3D Secure when asked to.
(function () {
  const makeStripe = Stripe;
  const post = async (path, payload) => {
    const response = await fetch(LOCALSTRIPE_BASE_API + path, {
      method: 'POST', body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    return {ok: response.status === 200 && !body.error, body};
  };
  const failed = (body) => ({error: body.error || {message: 'The payment could not be confirmed.'}});
  Stripe = (apiKey, options) => {
    const stripe = makeStripe(apiKey);
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const match = /^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret || '');
      if (!match) {
        return {error: {type: 'invalid_request_error', message: 'Invalid client secret.'}};
      }
      const intentId = match[1];
      const payload = {key: apiKey, client_secret: clientSecret};
      const method = data && data.payment_method;
      if (method && method.card instanceof Element) {
        const card = (method.card.value && method.card.value.card) || {};
        const number = (card.number || '').replace(/\s/g, '');
        if (!/^[0-9]{16}$/.test(number)) {
          return {error: {type: 'validation_error', code: 'incomplete_number',
                          message: 'Your card number is incomplete.'}};
        }
        payload.payment_method_data = {
          type: 'card', card: {...card, number}, billing_details: method.billing_details || {},
        };
      } else if (typeof method === 'string') {
        payload.payment_method = method;
      }
      let {ok, body} = await post(`/v1/payment_intents/${intentId}/confirm`, payload);
      if (!ok) return failed(body);
      if (body.status === 'requires_action') {
        const success = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                        'Complete authentication', 'Fail authentication');
        ({ok, body} = await post(`/v1/payment_intents/${intentId}/_authenticate?success=${success}`,
                                 {key: apiKey, client_secret: clientSecret}));
        if (!ok) return failed(body);
        if (body.status === 'requires_payment_method') {
          return {error: {type: 'card_error', code: 'payment_intent_authentication_failure',
                          message: 'We are unable to authenticate your payment method. ' +
                                   'Please choose a different payment method and try again.',
                          payment_intent: body}};
        }
      }
      return {paymentIntent: body};
    };
    return stripe;
  };
})();
"""


def stripe_js() -> str:
    """localstripe's fake Stripe.js with our confirmCardPayment appended."""
    original = Path(localstripe.__file__).with_name("localstripe-v3.js").read_text()
    return original + _JS_ADDENDUM
