"""GET /healthz: 200 when the database, Redis and a Celery worker all answer, 503 naming what does not."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.config import get_settings
from backend.services.health import PARTS, HealthReport, check_health


def report_response(report: HealthReport) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body for a report; a part missing from it counts as down."""
    missing = {"status": "down", "latency_ms": 0.0, "error": "not checked"}
    parts = {name: report.parts.get(name, missing) for name in PARTS}
    healthy = report.ok and all(part["status"] == "up" for part in parts.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", **parts}


async def healthz(request: Request) -> JSONResponse:
    timeout = get_settings().health_worker_timeout_seconds
    # The probes block (sockets, Celery's result wait): keep them off the event loop.
    report = await run_in_threadpool(check_health, timeout)
    status_code, body = report_response(report)
    # Load balancers and monitors must see the current state, never a cached one.
    return JSONResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz, methods=["GET"])]
