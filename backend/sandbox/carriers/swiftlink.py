"""SwiftLink's side: idempotent subscriptions and resend; the pushes themselves are in push.py."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.formats import parse_iso
from backend.sandbox.carriers.gate import BadInput, carrier_endpoint, json_object, read_json
from backend.sandbox.carriers.numbers import normalized, swiftlink_accepts
from backend.sandbox.carriers.push import loopback_url
from backend.sandbox.carriers.state import Sandbox

CARRIER = "swiftlink"


def render_error(status: int, code: str, headers: dict[str, str] | None, detail: str) -> Response:
    body = {"error": code, **({"detail": detail} if detail else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(sandbox: Sandbox) -> Starlette:
    endpoint = carrier_endpoint(sandbox, CARRIER, "X-Api-Key", render_error)

    @endpoint
    async def subscribe(request: Request, api_key: str, account: dict) -> Response:
        body = json_object(await read_json(request))
        number, url = body.get("tracking_number"), body.get("callback_url")
        if not isinstance(number, str) or not swiftlink_accepts(number):
            raise BadInput("bad_tracking_number", detail="4 to 40 letters and digits")
        if not isinstance(url, str) or not loopback_url(url):
            raise BadInput(
                "callback_url_not_allowed",
                detail="the sandbox pushes only to http(s) URLs on 127.0.0.1 or localhost",
            )
        subscription, _ = sandbox.pushes.subscribe(
            api_key, account["webhook_secret"], normalized(number), url
        )
        return JSONResponse(
            {
                "id": subscription.id,
                "tracking_number": subscription.tracking_number,
                "callback_url": subscription.callback_url,
            },
            status_code=201,
        )

    @endpoint
    async def resend(request: Request, api_key: str, account: dict) -> Response:
        body = json_object(await read_json(request))
        since = body.get("since")
        if not isinstance(since, str) or len(since) > 64:
            raise BadInput("bad_since", detail="since is an ISO 8601 time")
        try:
            since_at = parse_iso(since)
        except (ValueError, OverflowError, OSError):
            raise BadInput("bad_since", detail="since is an ISO 8601 time") from None
        return JSONResponse({"queued": sandbox.pushes.resend(api_key, since_at)}, status_code=202)

    return Starlette(
        routes=[
            Route("/v1/subscriptions", subscribe, methods=["POST"]),
            Route("/v1/resend", resend, methods=["POST"]),
        ]
    )
