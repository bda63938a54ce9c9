"""The path every carrier request takes: log it, check the key, the rate limit and injected faults."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backend.sandbox.carriers.state import Sandbox

MAX_BODY_BYTES = 1_048_576

# (status, error code, extra headers, detail) -> the carrier's own error response
ErrorRenderer = Callable[[int, str, dict[str, str] | None, str], Response]
Handler = Callable[[Request, str, dict], Awaitable[Response]]


class BadInput(Exception):
    """A request the carrier refuses with a 4xx and an error code, never a 500."""

    def __init__(self, code: str, status: int = 400, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail


def carrier_endpoint(
    sandbox: Sandbox, carrier: str, key_header: str, render_error: ErrorRenderer
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler(request, api_key, account) in the carrier's gate; every request is logged."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            arrived = time.time()
            api_key = request.headers.get(key_header, "")
            status = 499  # the client went away before an answer (e.g. during a hang)
            try:
                response = await _answer(request, api_key, handler)
                status = response.status_code
                return response
            finally:
                sandbox.log.record(carrier, api_key, arrived, status, request.url.path)

        async def _answer(request: Request, api_key: str, handler: Handler) -> Response:
            account = sandbox.accounts.get(api_key)
            if account is None or account["carrier"] != carrier:
                return render_error(401, "bad_key", None, "")
            retry_after = sandbox.limiter.check(carrier, api_key)
            if retry_after is not None:
                return render_error(429, "rate_limited", {"Retry-After": str(retry_after)}, "")
            if await sandbox.faults.strike(carrier):
                return render_error(503, "unavailable", None, "")
            try:
                return await handler(request, api_key, account)
            except BadInput as refused:
                return render_error(refused.status, refused.code, None, refused.detail)

        return endpoint

    return decorate


async def read_body(request: Request) -> bytes:
    """The raw body, refused past 1 MiB whether or not Content-Length says so."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadInput("body_too_large", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadInput("body_too_large", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadInput("bad_json") from None


def json_object(value: Any, what: str = "the body") -> dict:
    if not isinstance(value, dict):
        raise BadInput("bad_request", detail=f"{what} must be a JSON object")
    return value


def positive_int(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise BadInput("bad_request", detail=f"{name} must be a positive integer")
    return value
