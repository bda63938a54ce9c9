"""Demo Alipay app: the app's RSA2 key pair and Alipay's own, an app id and a seller (partner) id."""

from __future__ import annotations

import secrets
import string

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.services.payment_demo import DemoProvision, DemoTenant

SLUG = "alipay"


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _pems(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def provision(tenant: DemoTenant) -> DemoProvision:
    app_private, app_public = _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    alipay_private, alipay_public = _pems(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    app_id = "2021" + _digits(12)
    seller_id = "2088" + _digits(12)
    return DemoProvision(
        api_base=f"{tenant.sandbox_url}/{SLUG}",
        settings={"app_id": app_id, "seller_id": seller_id},
        secrets={"app_private_key": app_private, "alipay_public_key": alipay_public},
        sandbox_key=app_id,
        sandbox_record={
            "app_id": app_id,
            "seller_id": seller_id,
            "merchant_name": tenant.name,
            # Used when a page.pay request names no notify_url (the app's configured gateway).
            "webhook_url": tenant.webhook_url,
            "app_public_key": app_public,  # uploaded by the merchant on the open platform
            "alipay_private_key": alipay_private,
        },
    )
