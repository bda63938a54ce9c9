"""The demo's Checkout.com account: a secret key, a processing channel and a webhook signature key."""

from __future__ import annotations

import secrets

from backend.services.payment_demo import DemoProvision, DemoTenant

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _key(prefix: str) -> str:
    # Checkout.com's key format, as its SDK checks it: sk_sbox_ + 26 base32 + one more character.
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(27))


def provision(tenant: DemoTenant) -> DemoProvision:
    """Fresh keys on both sides each call; the processing channel names the account at Checkout.com."""
    secret_key = _key("sk_sbox_")
    public_key = _key("pk_sbox_")
    channel = "pc_" + "".join(secrets.choice(_BASE32) for _ in range(26))
    signature_key = secrets.token_hex(32)
    return DemoProvision(
        api_base=f"{tenant.sandbox_url}/checkout",
        settings={"processing_channel_id": channel, "public_key": public_key, "country": "HK"},
        secrets={"secret_key": secret_key, "webhook_secret": signature_key},
        sandbox_key=channel,
        sandbox_record={
            "secret_key": secret_key,
            "public_key": public_key,
            "processing_channel_id": channel,
            "webhook_url": tenant.webhook_url,
            "webhook_signature_key": signature_key,
            "merchant_name": tenant.name,
        },
    )
