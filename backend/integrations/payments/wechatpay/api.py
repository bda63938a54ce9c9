"""One signed call to WeChat Pay API v3; HTTP failures become our error tree, with WeChat's error code."""

from __future__ import annotations

import json
from typing import Any

import httpx

from backend.integrations.payments.base import (
    CALL_TIMEOUT,
    ProviderAccount,
    ProviderRejected,
    ProviderUnavailable,
)
from backend.integrations.payments.wechatpay import signing

SLUG = "wechatpay"
USER_AGENT = "waybill-wechatpay/1.0"  # WeChat refuses requests without one


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes we sign and send (the signature covers them, so they are made once)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _error_code(response: httpx.Response) -> str:
    """WeChat's {"code", "message"} error body in one short line, or "" when there is none."""
    try:
        document = response.json()
        code, message = str(document.get("code", "")), str(document.get("message", ""))
    except (ValueError, AttributeError):
        return ""
    text = f"{code} {message}".strip()
    return "".join(ch for ch in text if ch.isprintable())[:200]


def send(
    http: httpx.Client,
    account: ProviderAccount,
    method: str,
    path: str,
    payload: dict[str, Any] | None = None,
) -> httpx.Response:
    """Sign and send one request (`path` below api_base, with its query); a 2xx answer or an error."""
    url = account.api_base.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise ProviderRejected(f"the {SLUG} account's api_base must be an http(s) URL")
    body = b"" if payload is None else encode(payload)
    try:
        key = signing.private_key(account.secret("merchant_private_key"))
    except ValueError as exc:
        raise ProviderRejected(f"the {SLUG} merchant_private_key is not an RSA key in PEM") from exc
    target = httpx.URL(url).raw_path.decode("ascii")  # what the server sees, query included
    headers = {
        "Authorization": signing.authorization(
            mchid=account.setting("mchid"),
            serial_no=account.setting("merchant_serial_no"),
            key=key,
            method=method,
            path=target,
            body=body,
        ),
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if payload is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = http.request(
            method, url, content=body, headers=headers, timeout=CALL_TIMEOUT, follow_redirects=False
        )
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{SLUG} timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"{SLUG} unreachable ({type(exc).__name__})") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise ProviderUnavailable(f"{SLUG} answered {status} {_error_code(response)}".rstrip())
    if status >= 300:
        raise ProviderRejected(
            f"{SLUG} refused the request: {status} {_error_code(response)}".rstrip()
        )
    return response


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = json.loads(response.content)
    except ValueError as exc:
        raise ProviderRejected(f"{SLUG} answered something that is not JSON") from exc
    if not isinstance(document, dict):
        raise ProviderRejected(f"{SLUG} answered JSON that is not an object")
    return document
