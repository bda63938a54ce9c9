"""The stripe SDK, bound per call to one tenant's key and to the httpx client we are given.

The SDK's own `stripe.HTTPXClient` builds its own httpx clients (sync and async, with
a fresh TLS context) and cannot take ours, so this module plugs our client into the
SDK's `HTTPClient` interface instead: our timeouts, our transport (MockTransport in
tests), no redirects, and no retries inside the SDK (the caller retries with the same
idempotency key). No global `stripe.api_key`, ever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import stripe

from backend.integrations.payments.base import (
    CALL_TIMEOUT,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
)

T = TypeVar("T")


class BorrowedHttpxClient(stripe.HTTPClient):
    """The SDK's transport over an httpx.Client that belongs to the caller (never closed here)."""

    name = "waybill-httpx"

    def __init__(self, client: httpx.Client):
        super().__init__()
        self._client = client

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = self._client.request(
                method.upper(),
                url,
                headers=dict(headers or {}),
                content=post_data or None,  # the SDK has already form-encoded the body
                timeout=CALL_TIMEOUT,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise stripe.APIConnectionError(f"Stripe timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise stripe.APIConnectionError(f"Stripe unreachable ({type(exc).__name__})") from exc
        return response.content, response.status_code, response.headers

    def close(self) -> None:
        pass  # the client is the caller's


def sdk_client(account: ProviderAccount, client: httpx.Client) -> stripe.StripeClient:
    base = account.api_base.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ProviderRejected("the stripe account's api_base must be an http(s) URL")
    return stripe.StripeClient(
        account.secret("secret_key"),
        base_addresses={"api": base},
        http_client=BorrowedHttpxClient(client),
        max_network_retries=0,
    )


@contextmanager
def _translated() -> Iterator[None]:
    """The SDK's errors in our tree. Messages carry the status and Stripe's code, never a key."""
    try:
        yield
    except stripe.APIConnectionError as exc:
        raise ProviderUnavailable(str(exc.user_message or "Stripe unreachable")) from exc
    except stripe.StripeError as exc:
        status, code = exc.http_status, exc.code or ""
        # 409 is Stripe's "idempotency key in use / lock timeout": retry with the same key.
        if status is not None and (status in (409, 429) or status >= 500):
            raise ProviderUnavailable(f"stripe answered {status} {code}".rstrip()) from exc
        raise ProviderRejected(f"stripe refused the request: {status} {code}".rstrip()) from exc


def call(operation: Callable[[], T]) -> dict[str, Any]:
    """Run one SDK call and return the object it read as plain JSON (a dict)."""
    with _translated():
        result = operation()
    if not isinstance(result, stripe.StripeObject):
        raise ProviderRejected("stripe answered something that is not an object")
    return result.to_dict()
