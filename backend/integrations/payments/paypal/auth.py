"""OAuth2 client credentials: one bearer token per PayPal account, kept in memory until it expires."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections import OrderedDict

import httpx

from backend.integrations.payments.base import ProviderAccount, ProviderRejected
from backend.integrations.payments.paypal import transport

TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 (a path, not a password)
MAX_ACCOUNTS = 256  # bounded: a long-lived worker serving many tenants keeps only recent ones
EARLY_SECONDS = 60  # renew a little before PayPal's expiry, so no call carries a dying token


def api_root(account: ProviderAccount) -> str:
    return account.api_base.strip().rstrip("/")


class TokenCache:
    """Bearer tokens by (api_base, client id, digest of the secret): a rotated secret gets a new one."""

    def __init__(self, max_accounts: int = MAX_ACCOUNTS, clock=time.monotonic):
        self._tokens: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_accounts
        self._clock = clock

    @staticmethod
    def _key(account: ProviderAccount) -> tuple[str, str, str]:
        secret = account.secret("client_secret")
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return api_root(account), account.setting("client_id"), digest

    def token(self, account: ProviderAccount, client: httpx.Client) -> str:
        key = self._key(account)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > self._clock():
                self._tokens.move_to_end(key)
                return cached[0]
        token, lifetime = self._fetch(account, client)
        with self._lock:
            self._tokens[key] = (token, self._clock() + lifetime)
            self._tokens.move_to_end(key)
            while len(self._tokens) > self._max:
                self._tokens.popitem(last=False)
        return token

    def forget(self, account: ProviderAccount) -> None:
        """Drop the account's token (PayPal answered 401 to it: revoked, or the sandbox restarted)."""
        with self._lock:
            self._tokens.pop(self._key(account), None)

    @staticmethod
    def _fetch(account: ProviderAccount, client: httpx.Client) -> tuple[str, float]:
        pair = f"{account.setting('client_id')}:{account.secret('client_secret')}"
        answer = transport.send(
            client,
            "POST",
            api_root(account) + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            headers={
                "Accept": "application/json",
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            },
        )
        if answer.status_code == 401:
            raise ProviderRejected("paypal refused the account's client id and secret")
        answer.raise_for_status()
        document = answer.json()
        token, kind, expires = (
            document.get("access_token"),
            document.get("token_type"),
            document.get("expires_in"),
        )
        if not isinstance(token, str) or not token or not isinstance(kind, str):
            raise ProviderRejected("paypal's token answer has no access_token")
        if kind.lower() != "bearer":
            raise ProviderRejected(f"paypal issued a {kind!r} token, not a bearer token")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
            raise ProviderRejected("paypal's token answer has no expires_in")
        return token, max(expires - min(EARLY_SECONDS, expires / 2), 1.0)
