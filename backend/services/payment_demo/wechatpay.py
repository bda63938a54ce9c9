"""Demo WeChat Pay merchant: merchant API key and serial, APIv3 key, and WeChat's platform key and certificate."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from backend.services.payment_demo import DemoProvision, DemoTenant

SLUG = "wechatpay"
_ALPHANUMERIC = string.ascii_letters + string.digits


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def platform_certificate(key: rsa.RSAPrivateKey, now: datetime | None = None) -> x509.Certificate:
    """A self-signed stand-in for WeChat's platform certificate, valid five years from yesterday."""
    now = now or datetime.now(UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com (sandbox)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (sandbox)"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )


def provision(tenant: DemoTenant) -> DemoProvision:
    merchant_key, platform_key = _rsa_key(), _rsa_key()
    certificate = platform_certificate(platform_key)
    mchid = "16" + "".join(secrets.choice(string.digits) for _ in range(8))
    appid = "wx" + secrets.token_hex(8)
    merchant_serial = secrets.token_hex(20).upper()  # the merchant API certificate's serial
    apiv3_key = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))
    return DemoProvision(
        api_base=f"{tenant.sandbox_url}/{SLUG}",
        settings={"mchid": mchid, "appid": appid, "merchant_serial_no": merchant_serial},
        secrets={"merchant_private_key": _private_pem(merchant_key), "apiv3_key": apiv3_key},
        sandbox_key=mchid,
        sandbox_record={
            "mchid": mchid,
            "appid": appid,
            "merchant_name": tenant.name,
            "webhook_url": tenant.webhook_url,  # the refund notification URL set on the dashboard
            "merchant_serial_no": merchant_serial,
            "merchant_public_key": _public_pem(merchant_key),
            "apiv3_key": apiv3_key,
            "platform_serial_no": format(certificate.serial_number, "X"),
            "platform_private_key": _private_pem(platform_key),
            "platform_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        },
    )
