"""The demo's Adyen merchant account: an API key, an HMAC key and basic auth for notifications."""

from __future__ import annotations

import secrets

from backend.services.payment_demo import DemoProvision, DemoTenant


def merchant_account(tenant: DemoTenant) -> str:
    """Adyen names merchant accounts like "WaybillHarbourExpressECOM"."""
    words = "".join(part.capitalize() for part in tenant.slug.replace("_", "-").split("-") if part)
    return f"Waybill{words}ECOM"


def provision(tenant: DemoTenant) -> DemoProvision:
    """Fresh keys on both sides each call: Adyen's key formats, our secrets sealed by the caller."""
    account = merchant_account(tenant)
    api_key = "AQE" + secrets.token_urlsafe(48)
    hmac_key = secrets.token_hex(32).upper()  # Adyen shows a 64-character hex HMAC key
    username = f"ws_waybill_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    return DemoProvision(
        api_base=f"{tenant.sandbox_url}/adyen",
        settings={"merchant_account": account, "country": "HK"},
        secrets={
            "api_key": api_key,
            "hmac_key": hmac_key,
            "webhook_username": username,
            "webhook_password": password,
        },
        sandbox_key=account,
        sandbox_record={
            "api_key": api_key,
            "hmac_key": hmac_key,
            "webhook_url": tenant.webhook_url,
            "webhook_username": username,
            "webhook_password": password,
            "merchant_name": tenant.name,
        },
    )
