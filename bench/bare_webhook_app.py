"""The bare baseline for the payment webhook intake: Starlette, a psycopg pool, one INSERT.

    BARE_DATABASE_URL=postgresql://... BARE_WEBHOOK_ACCOUNTS='{"slug": {...}}' \\
        .venv/bin/granian --interface asgi --port 3301 bench.bare_webhook_app:app

`POST /webhooks/payments/checkout/{tenant}` does what the product's intake must do for a
Checkout.com delivery and nothing else: read the raw body (at most the product's
256 KiB), check `Cko-Signature` (the hex HMAC-SHA256 of the raw body under the
tenant's webhook key, compared in constant time), read the event's id, type and
`created_on` (held to the same 72 h tolerance), then insert headers and body into the
product's own `webhook_inbox` table, `ON CONFLICT ON CONSTRAINT webhook_event_once DO
NOTHING` (a re-delivery is a no-op), and answer 200 with an empty body as the product
does. No ORM, no session, no thread pool, no task queue.

Each tenant's id and webhook key are read once at start-up from BARE_WEBHOOK_ACCOUNTS
(JSON: {slug: {"tenant_id": ..., "webhook_secret": ...}}, written by the benchmark from
the product's own sealed secrets), where the product looks both up on every delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uuid6 import uuid7

from bench.bare_common import bare_app, bare_pool

MAX_BODY = 256 * 1024  # backend.integrations.payments.base.MAX_WEBHOOK_BYTES
TOLERANCE = timedelta(hours=72)  # backend.integrations.payments.checkout.webhooks
FUTURE_SKEW = timedelta(minutes=5)
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}
CHECKED_ON_ARRIVAL = "[checked on arrival; not stored]"
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")

INSERT = """
INSERT INTO webhook_inbox
       (id, tenant_id, kind, provider, event_id, event_type, headers, body, state, attempts,
        last_error, received_at)
VALUES (%s, %s, 'payment', 'checkout', %s, %s, %s, %s, 'received', 0, '', %s)
    ON CONFLICT ON CONSTRAINT webhook_event_once DO NOTHING
"""

ACCOUNTS: dict[str, tuple[str, bytes]] = {
    slug: (account["tenant_id"], account["webhook_secret"].encode())
    for slug, account in json.loads(os.environ.get("BARE_WEBHOOK_ACCOUNTS", "{}")).items()
}

pool = bare_pool()


def _rejected(reason: str) -> JSONResponse:
    return JSONResponse({"error": "rejected", "reason": reason}, status_code=400)


def _event(body: bytes) -> tuple[str, str] | str:
    """(event id, type) of a signed body, or why it is refused."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "body is not UTF-8 JSON"
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        return "not a Checkout.com event"
    event_id, event_type = document.get("id"), document.get("type")
    if not isinstance(event_id, str) or not event_id.startswith("evt_") or len(event_id) > 200:
        return "bad id"
    if not isinstance(event_type, str) or not event_type or len(event_type) > 200:
        return "bad type"
    try:
        created = datetime.fromisoformat(document.get("created_on", ""))
    except (TypeError, ValueError):
        return "created_on is not ISO 8601"
    now = datetime.now(UTC)
    if created.tzinfo is None or not now - TOLERANCE <= created <= now + FUTURE_SKEW:
        return "created_on is outside the tolerance"
    return event_id, event_type


async def checkout_webhook(request: Request) -> Response:
    account = ACCOUNTS.get(request.path_params["tenant"])
    if account is None:
        return JSONResponse({"error": "unknown_endpoint"}, status_code=404)
    tenant_id, secret = account
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "too_large"}, status_code=413)
    given = request.headers.get("cko-signature", "").strip()
    if not _SIGNATURE.fullmatch(given):
        return _rejected("missing or garbled Cko-Signature header")
    if not hmac.compare_digest(hmac.new(secret, body, hashlib.sha256).hexdigest(), given.lower()):
        return _rejected("bad signature")
    event = _event(body)
    if isinstance(event, str):
        return _rejected(event)
    headers = {
        k: (CHECKED_ON_ARRIVAL if k in CREDENTIAL_HEADERS else v)
        for k, v in request.headers.items()
    }
    async with pool.connection() as conn:
        await conn.execute(
            INSERT,
            (uuid7(), tenant_id, event[0], event[1][:100], Jsonb(headers), body, datetime.now(UTC)),
        )
    return Response(b"", status_code=200, media_type="text/plain")


app = bare_app(
    [
        Route("/webhooks/payments/checkout/{tenant}", checkout_webhook, methods=["POST"]),
    ],
    pool,
)
