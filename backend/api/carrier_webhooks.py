"""POST /webhooks/carriers/{carrier}/{tenant}: verify, store, answer fast; a worker applies it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.api.bodies import read_at_most
from backend.integrations.carriers.base import PushRejected
from backend.services import carrier_push, task_queue
from backend.services.errors import NotFound

APPLY_TASK = "waybill.webhooks.apply_carrier_push"


async def carrier_webhook(request: Request) -> JSONResponse:
    body = await read_at_most(request, carrier_push.MAX_PUSH_BYTES)
    if body is None:
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
        # In a thread: with the broker down, publishing retries for seconds, and the event loop
        # serves every other request meanwhile. The row is stored; the reconciler has it anyway.
        await run_in_threadpool(
            task_queue.enqueue, APPLY_TASK, str(received.inbox_id), queue="webhooks"
        )
    return JSONResponse({"received": True, "duplicate": received.duplicate}, status_code=202)


routes = [Route("/webhooks/carriers/{carrier}/{tenant}", carrier_webhook, methods=["POST"])]
