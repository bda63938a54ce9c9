"""PayPal's demo account: REST app credentials, a webhook id, and the sandbox's own signing certificate."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from backend.services.payment_demo import DemoProvision, DemoTenant

SLUG = "paypal"
CERT_YEARS = 5  # long enough that demo data made today still verifies for years
_UPPER_DIGITS = string.ascii_uppercase + string.digits


def _code(length: int) -> str:
    return "".join(secrets.choice(_UPPER_DIGITS) for _ in range(length))


def _signing_certificate(tenant: DemoTenant) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate for it, both PEM: what PayPal signs webhooks with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.test"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Waybill sandbox for {tenant.slug}"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def provision(tenant: DemoTenant) -> DemoProvision:
    """New credentials on both sides each call: the app's client id and secret, the webhook id."""
    client_id = "A" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "B")[:79]
    client_secret = "E" + secrets.token_urlsafe(60).replace("-", "C").replace("_", "D")[:79]
    webhook_id = _code(17)
    key_pem, cert_pem = _signing_certificate(tenant)
    return DemoProvision(
        api_base=f"{tenant.sandbox_url.rstrip('/')}/{SLUG}",
        settings={"client_id": client_id, "webhook_id": webhook_id},
        secrets={"client_secret": client_secret},
        sandbox_key=client_id,
        sandbox_record={
            "client_id": client_id,
            "client_secret": client_secret,
            "merchant_id": _code(13),
            "merchant_name": tenant.name,
            "webhook_id": webhook_id,
            "webhook_url": tenant.webhook_url,
            "cert_id": f"CERT-{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}",
            "cert_pem": cert_pem,
            "signing_key_pem": key_pem,
        },
    )
