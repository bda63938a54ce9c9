"""PayPal's webhook self-verification: RSA over "id|time|webhook id|crc32(body)", with its certificate.

A notification is believed only when all five PAYPAL-* headers are there, the algorithm is
SHA256withRSA, the transmission time is within TOLERANCE_SECONDS of `now`, the certificate
comes from an allowed URL (https on paypal.com, or under this account's own api_base) and is
valid at `now`, and its RSA key verifies the base64 signature over
f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(raw body) as unsigned decimal}".
The webhook id is this tenant's own: a notification for another tenant's webhook fails.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    PaymentProviderError,
    WebhookRejected,
)
from backend.integrations.payments.paypal import transport

TOLERANCE_SECONDS = 300
ALGORITHM = "SHA256withRSA"
MAX_CERT_BYTES = 64 * 1024
MAX_CACHED_CERTS = 32
MIN_RSA_BITS = 2048
HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)
_TRANSMISSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}")  # never a "|"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,50}")  # the simulator's is "WEBHOOK_ID"; never a "|"


def signed_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """The exact bytes PayPal signs for one transmission of `body` to webhook `webhook_id`."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


def cert_url_allowed(url: str, api_base: str) -> bool:
    """https on paypal.com (or a subdomain), or under this account's own api_base (the sandbox)."""
    if len(url) > 500 or not url.isprintable() or ".." in url or "%" in url:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or parts.fragment:
        return False
    host = (parts.hostname or "").lower()
    on_paypal = host == "paypal.com" or host.endswith(".paypal.com")
    if parts.scheme == "https" and on_paypal and port in (None, 443):
        return True
    base = api_base.strip().rstrip("/")
    return base.startswith(("http://", "https://")) and url.startswith(base + "/")


class CertificateCache:
    """Signing certificates by URL, in memory, the most recently used MAX_CACHED_CERTS kept."""

    def __init__(self, max_entries: int = MAX_CACHED_CERTS):
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, url: str, client: httpx.Client) -> x509.Certificate:
        with self._lock:
            cert = self._certs.get(url)
            if cert is not None:
                self._certs.move_to_end(url)
                return cert
        cert = _download(url, client)
        with self._lock:
            self._certs[url] = cert
            while len(self._certs) > self._max:
                self._certs.popitem(last=False)
        return cert

    def clear(self) -> None:
        with self._lock:
            self._certs.clear()


CERTIFICATES = CertificateCache()


def _download(url: str, client: httpx.Client) -> x509.Certificate:
    try:
        answer = transport.send(client, "GET", url, headers={"Accept": "*/*"})
        answer.raise_for_status()
    except PaymentProviderError as exc:
        raise WebhookRejected(f"could not fetch the signing certificate: {exc}") from exc
    if len(answer.body) > MAX_CERT_BYTES:
        raise WebhookRejected("the signing certificate is too large")
    try:
        # PayPal serves the leaf first, then its chain.
        cert = x509.load_pem_x509_certificates(answer.body)[0]
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise WebhookRejected("the signing certificate is not a PEM certificate") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise WebhookRejected(f"the signing certificate needs an RSA key of {MIN_RSA_BITS}+ bits")
    return cert


def _header(headers: Mapping[str, str], name: str) -> str:
    values = {v.strip() for k, v in headers.items() if k.lower() == name}
    if not values or values == {""}:
        raise WebhookRejected(f"missing {name} header")
    if len(values) > 1:
        raise WebhookRejected(f"conflicting {name} headers")
    return values.pop()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify(
    headers: Mapping[str, str],
    body: bytes,
    *,
    webhook_id: str,
    api_base: str,
    now: datetime,
    client: httpx.Client,
    certificates: CertificateCache = CERTIFICATES,
) -> None:
    """Raise WebhookRejected unless PayPal signed exactly these bytes for this webhook id, lately."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise WebhookRejected("the account's webhook id is not a PayPal webhook id")
    transmission_id, transmission_time, signature_text, cert_url, algorithm = (
        _header(headers, name) for name in HEADERS
    )
    if algorithm != ALGORITHM:
        raise WebhookRejected(f"unsupported signature algorithm {algorithm[:40]!r}")
    if not _TRANSMISSION_ID.fullmatch(transmission_id):
        raise WebhookRejected("garbled transmission id")
    if not _TIME.fullmatch(transmission_time):
        raise WebhookRejected("garbled transmission time")
    moment = _utc(now)
    try:
        skew = abs((moment - datetime.fromisoformat(transmission_time)).total_seconds())
    except (ValueError, OverflowError) as exc:  # 2026-02-30, or year 1 at +14:00
        raise WebhookRejected("garbled transmission time") from exc
    if skew > TOLERANCE_SECONDS:
        raise WebhookRejected("stale or future transmission time")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRejected("the signature is not base64") from exc
    if not 0 < len(signature) <= 1024:
        raise WebhookRejected("garbled signature")
    # Checked before the cache too: a URL allowed for one tenant is not thereby allowed for another.
    if not cert_url_allowed(cert_url, api_base):
        raise WebhookRejected("the certificate URL is not PayPal's")
    cert = certificates.get(cert_url, client)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise WebhookRejected("the signing certificate is not valid now")
    message = signed_message(transmission_id, transmission_time, webhook_id, body)
    try:
        cert.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    except InvalidSignature as exc:
        raise WebhookRejected("bad signature") from exc
