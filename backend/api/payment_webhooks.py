"""POST /webhooks/payments/{provider}/{tenant}: verify, store, answer the provider; a worker applies."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.api.bodies import read_at_most
from backend.integrations.payments.base import MAX_WEBHOOK_BYTES, WebhookRejected
from backend.services import payment_webhooks, task_queue
from backend.services.errors import NotFound

logger = logging.getLogger("waybill.webhooks")
APPLY_TASK = "waybill.webhooks.apply_payment"


async def payment_webhook(request: Request) -> Response:
    body = await read_at_most(request, MAX_WEBHOOK_BYTES)
    if body is None:
        return JSONResponse({"error": "too_large"}, status_code=413)
    provider, tenant = request.path_params["provider"], request.path_params["tenant"]
    try:
        received = await run_in_threadpool(
            payment_webhooks.receive, provider, tenant, dict(request.headers), body
        )
    except NotFound:
        return JSONResponse({"error": "unknown_endpoint"}, status_code=404)
    except WebhookRejected as rejected:
        # Said plainly to the caller (a misconfigured secret shows up in the provider's dashboard).
        logger.info("rejected %s webhook for %s: %s", provider, tenant, rejected)
        return JSONResponse({"error": "rejected", "reason": str(rejected)}, status_code=400)
    for inbox_id in received.new_inbox_ids:
        # In a thread: with the broker down, publishing retries for seconds (the row is stored,
        # and the reconciler would enqueue it), and the event loop serves everyone else meanwhile.
        await run_in_threadpool(task_queue.enqueue, APPLY_TASK, str(inbox_id), queue="webhooks")
    ack = received.ack
    return Response(ack.body, status_code=ack.status_code, media_type=ack.content_type)


routes = [Route("/webhooks/payments/{provider}/{tenant}", payment_webhook, methods=["POST"])]
