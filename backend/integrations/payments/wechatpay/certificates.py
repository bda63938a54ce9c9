"""WeChat Pay's platform certificates: fetched from /v3/certificates, cached per account by serial.

The list arrives sealed with the merchant's APIv3 key (AES-256-GCM), which only WeChat and
the merchant know: a certificate that decrypts is WeChat's. The list's own answer is
then checked with one of the certificates it carries. A serial we do not know triggers
one re-fetch (WeChat rotates its certificates), at most once a minute per account, so a
stream of forged serials cannot turn into a stream of calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.integrations.payments.base import (
    ProviderAccount,
    ProviderRejected,
    header,
)
from backend.integrations.payments.wechatpay import api, crypto, signing

PATH = "/v3/certificates"
TOLERANCE_SECONDS = 300  # how far a signed answer's timestamp may be from our clock
REFETCH_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class PlatformCertificate:
    serial: str
    key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime

    def valid_at(self, now: datetime) -> bool:
        return self.not_before <= now <= self.not_after


@dataclass
class _Entry:
    fetched_at: float
    by_serial: dict[str, PlatformCertificate] = field(default_factory=dict)


def _utc(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)  # our naive times are UTC


def read_certificates(document: dict, apiv3_key: str) -> dict[str, PlatformCertificate]:
    """The certificates of a /v3/certificates answer, each unsealed and checked against its serial."""
    items = document.get("data")
    if not isinstance(items, list) or not items:
        raise ProviderRejected(f"{api.SLUG} listed no platform certificates")
    found: dict[str, PlatformCertificate] = {}
    for item in items:
        sealed = item.get("encrypt_certificate") if isinstance(item, dict) else None
        serial = item.get("serial_no") if isinstance(item, dict) else None
        if not isinstance(sealed, dict) or not isinstance(serial, str):
            raise ProviderRejected(f"{api.SLUG} certificate entry is unreadable")
        fields = [sealed.get(name) for name in ("nonce", "associated_data", "ciphertext")]
        if sealed.get("algorithm") != crypto.ALGORITHM or not all(
            isinstance(f, str) for f in fields
        ):
            raise ProviderRejected(f"{api.SLUG} certificate is not sealed with {crypto.ALGORITHM}")
        try:
            pem = crypto.decrypt(apiv3_key, *fields)  # type: ignore[arg-type]
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise ProviderRejected(
                f"{api.SLUG} certificate does not open with our APIv3 key"
            ) from exc
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or signing.serial_of(cert) != serial.upper():
            raise ProviderRejected(f"{api.SLUG} certificate {serial} does not match its serial")
        found[serial.upper()] = PlatformCertificate(
            serial.upper(), key, cert.not_valid_before_utc, cert.not_valid_after_utc
        )
    return found


def check_signed(
    headers: httpx.Headers,
    body: bytes,
    key_for: Callable[[str], rsa.RSAPublicKey | None],
    now: datetime,
) -> None:
    """Raise ProviderRejected unless an answer carries WeChat's fresh, valid signature over its bytes."""
    timestamp, nonce = header(headers, "wechatpay-timestamp"), header(headers, "wechatpay-nonce")
    signature, serial = header(headers, "wechatpay-signature"), header(headers, "wechatpay-serial")
    if not (timestamp.isdigit() and len(timestamp) <= 12 and nonce and signature and serial):
        raise ProviderRejected(f"{api.SLUG} answer is not signed")
    if abs(_utc(now).timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise ProviderRejected(f"{api.SLUG} answer's signature is stale")
    key = key_for(serial.upper())
    if key is None:
        raise ProviderRejected(f"{api.SLUG} answer is signed by an unknown certificate")
    if not signing.verify(key, signing.answer_message(timestamp, nonce, body), signature):
        raise ProviderRejected(f"{api.SLUG} answer's signature does not match")


class PlatformCertificates:
    """The cache one adapter (so one process) keeps, keyed by (api_base, mchid)."""

    def __init__(
        self,
        refetch_after: float = REFETCH_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._refetch_after = refetch_after
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # how many times the list was fetched (tests and metrics)

    def key_for(
        self, serial: str, account: ProviderAccount, http: httpx.Client, now: datetime
    ) -> rsa.RSAPublicKey | None:
        """The platform key with this serial, valid at `now`; fetched once more if we lack it."""
        now = _utc(now)
        cache_key = (account.api_base, account.setting("mchid"))
        serial = serial.upper()
        with self._lock:
            entry = self._entries.get(cache_key)
            cert = entry.by_serial.get(serial) if entry else None
            due = entry is None or self._clock() - entry.fetched_at >= self._refetch_after
            if cert is None and due:
                entry = self._fetch(account, http)
                self._entries[cache_key] = entry
                cert = entry.by_serial.get(serial)
        return cert.key if cert is not None and cert.valid_at(now) else None

    def _fetch(self, account: ProviderAccount, http: httpx.Client) -> _Entry:
        self.fetches += 1
        response = api.send(http, account, "GET", PATH)
        found = read_certificates(api.json_object(response), account.secret("apiv3_key"))
        # The list vouches for itself only through one of its own (already unsealed) certificates.
        # Its answer is fresh now, whatever `now` a replayed notification is checked as of.
        check_signed(
            response.headers,
            response.content,
            lambda serial: found[serial].key if serial in found else None,
            datetime.now(UTC),
        )
        return _Entry(self._clock(), found)
