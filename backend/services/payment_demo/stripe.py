"""The demo's Stripe account for one tenant: fresh keys for our side and for its localstripe."""

from __future__ import annotations

import secrets
import string

from backend.services.payment_demo import DemoProvision, DemoTenant

_ALPHABET = string.ascii_letters + string.digits


def _token(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def provision(tenant: DemoTenant) -> DemoProvision:
    """Keys as a Stripe dashboard shows them (test mode); each tenant has its own localstripe."""
    secret_key = _token("sk_test_", 48)
    publishable_key = _token("pk_test_", 48)
    webhook_secret = _token("whsec_", 32)
    api_base = tenant.stripe_url.rstrip("/")
    return DemoProvision(
        api_base=api_base,
        settings={
            "publishable_key": publishable_key,
            # Where the card page loads Stripe.js from: localstripe serves a fake one.
            "js_url": f"{api_base}/js.stripe.com/v3/",
        },
        secrets={"secret_key": secret_key, "webhook_secret": webhook_secret},
        sandbox_key=tenant.slug,
        sandbox_record={
            "merchant_name": tenant.name,
            "webhook_url": tenant.webhook_url,
            "webhook_secret": webhook_secret,
            "secret_key": secret_key,
            "publishable_key": publishable_key,
            "currency": tenant.currency,
        },
    )
