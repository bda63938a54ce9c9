"""One HTTP exchange with PayPal: our timeouts, no redirects, a bounded answer, JSON read strictly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from backend.integrations.payments.base import (
    CALL_TIMEOUT,
    ProviderRejected,
    ProviderUnavailable,
)

PROVIDER = "paypal"
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> dict[str, Any]:
        return read_json(self.body)

    def raise_for_status(self) -> None:
        """429 and 5xx are ProviderUnavailable; any other non-2xx is ProviderRejected."""
        if self.status_code == 429 or self.status_code >= 500:
            raise ProviderUnavailable(f"paypal answered {self.status_code}")
        if self.status_code >= 400:
            issue = error_issue(self.body)
            detail = f" ({issue})" if issue else ""
            raise ProviderRejected(f"paypal refused the request: {self.status_code}{detail}")
        if not 200 <= self.status_code < 300:
            raise ProviderRejected(
                f"paypal answered {self.status_code}"
            )  # a redirect: not followed


def send(client: httpx.Client, method: str, url: str, **request: Any) -> Answer:
    """Send one request; transport failures become ProviderUnavailable, statuses are left to the caller."""
    if not url.startswith(("http://", "https://")):
        raise ProviderRejected(f"the {PROVIDER} account's api_base must be an http(s) URL")
    try:
        built = client.build_request(method, url, timeout=CALL_TIMEOUT, **request)
        response = client.send(built, stream=True, follow_redirects=False)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise ProviderRejected("paypal's answer is too large")
                chunks.append(chunk)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"paypal timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"paypal unreachable ({type(exc).__name__})") from exc
    return Answer(response.status_code, b"".join(chunks))


def read_json(body: bytes) -> dict[str, Any]:
    """A JSON object from PayPal, or ProviderRejected: an answer we cannot read is never guessed at."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProviderRejected("paypal's answer is not JSON") from exc
    if not isinstance(document, dict):
        raise ProviderRejected("paypal's answer is not a JSON object")
    return document


def error_issue(body: bytes) -> str:
    """The first `details[].issue` of a PayPal error body ("" when there is none)."""
    try:
        details = json.loads(body).get("details")
        issue = details[0].get("issue") if isinstance(details, list) and details else ""
    except (UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        return ""
    return issue if isinstance(issue, str) and len(issue) <= 100 else ""
