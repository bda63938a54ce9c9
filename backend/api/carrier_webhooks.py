"""POST /webhooks/carriers/{carrier}/{tenant}: verify, store, answer fast; a worker applies it."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.integrations.carriers.base import PushRejected
from backend.jobs.celery_app import celery_app
from backend.services import carrier_push
from backend.services.errors import NotFound

logger = logging.getLogger("waybill.webhooks")
APPLY_TASK = "waybill.webhooks.apply_carrier_push"


async def carrier_webhook(request: Request) -> JSONResponse:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > carrier_push.MAX_PUSH_BYTES:
        return JSONResponse({"error": "too_large"}, status_code=413)
    body = await _read_at_most(request, carrier_push.MAX_PUSH_BYTES)
    if body is None:  # no (or a false) Content-Length: counted while reading, never all in memory
        return JSONResponse({"error": "too_large"}, status_code=413)
    try:
        received = await run_in_threadpool(
            carrier_push.receive,
            request.path_params["carrier"],
            request.path_params["tenant"],
            dict(request.headers),
            body,
        )
    except NotFound:
        return JSONResponse({"error": "unknown_endpoint"}, status_code=404)
    except PushRejected as rejected:
        return JSONResponse({"error": "rejected", "reason": str(rejected)}, status_code=401)
    if not received.duplicate:
        try:
            celery_app.send_task(
                APPLY_TASK, args=[str(received.inbox_id)], queue="webhooks", retry=False
            )
        except Exception:  # the broker is down: the row is stored, the reconciler will enqueue it
            logger.warning("could not enqueue push %s; the reconciler will", received.inbox_id)
    return JSONResponse({"received": True, "duplicate": received.duplicate}, status_code=202)


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


routes = [Route("/webhooks/carriers/{carrier}/{tenant}", carrier_webhook, methods=["POST"])]
