"""The sandbox's own control routes under /_sandbox: health, faults, stats, journey previews, reset."""

from __future__ import annotations

import json
import math

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.accounts import CARRIERS
from backend.sandbox.carriers.faults import FaultRequestError
from backend.sandbox.carriers.gate import BadInput, read_body
from backend.sandbox.carriers.limits import RATES
from backend.sandbox.carriers.numbers import MAX_NUMBER_LENGTH, normalized
from backend.sandbox.carriers.scenarios import plan_for
from backend.sandbox.carriers.state import Sandbox


def _error(status: int, code: str, detail: str = "") -> Response:
    return JSONResponse({"error": code, **({"detail": detail} if detail else {})}, status)


def create_app(sandbox: Sandbox) -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "carriers": list(CARRIERS),
                "step_seconds": sandbox.settings.step_seconds,
            }
        )

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"faults": sandbox.faults.view()})
        try:
            body = json.loads(await read_body(request))
            return JSONResponse(sandbox.faults.configure(body))
        except BadInput as refused:
            return _error(refused.status, refused.code)
        except (ValueError, RecursionError) as refused:  # FaultRequestError is a ValueError
            detail = str(refused) if isinstance(refused, FaultRequestError) else ""
            return _error(400, "bad_request" if detail else "bad_json", detail)

    async def stats(request: Request) -> Response:
        carrier = request.path_params["carrier"]
        if carrier not in CARRIERS:
            return _error(404, "unknown_carrier")
        since_text = request.query_params.get("since")
        try:
            since = float(since_text) if since_text else None
        except ValueError:
            since = None
        if since is not None and not math.isfinite(since):
            since = None
        answer = sandbox.log.snapshot(carrier, since)
        answer["limit_per_second"] = RATES[carrier]
        return JSONResponse(answer)

    async def journey(request: Request) -> Response:
        """What a number's journey is (or will be) at a carrier, without starting it."""
        carrier, number = request.path_params["carrier"], request.path_params["number"]
        if carrier not in CARRIERS or len(number) > MAX_NUMBER_LENGTH:
            return _error(404, "unknown_carrier")
        number = normalized(number)
        plan = plan_for(carrier, number)
        started = sandbox.journeys.get(carrier, number)
        return JSONResponse(
            {
                "carrier": carrier,
                "number": number,
                "scenario": plan.scenario,
                "codes": plan.codes,
                "started_at": started.started_at if started else None,
                "events_so_far": started.visible_count(sandbox.journeys.clock()) if started else 0,
            }
        )

    async def reset(request: Request) -> Response:
        sandbox.reset()
        return JSONResponse({"reset": True})

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/faults", faults, methods=["GET", "POST"]),
            Route("/stats/{carrier}", stats, methods=["GET"]),
            Route("/journeys/{carrier}/{number}", journey, methods=["GET"]),
            Route("/reset", reset, methods=["POST"]),
        ]
    )
