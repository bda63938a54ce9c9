"""Mounts the sandbox payment providers (each `backend/sandbox/payments/<slug>.py`) and their controls.

Routes: `/<slug>/...` per provider (its API, hosted page and whatever its real
counterpart serves), and under `/_sandbox/payments`:
- `GET  deliveries[?provider=]`: every webhook sent, with each attempt's status
- `POST deliveries/{id}/redeliver`: send one again (as a provider's dashboard can)
- `POST accounts` `{"provider", "key", "record"}`: add a merchant account at run time
- `POST reset`: forget payments, refunds and deliveries
"""

from __future__ import annotations

import importlib
import importlib.util
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from backend.sandbox.payments.state import PaymentSandbox

# Stripe is not here: localstripe (a real, stateful Stripe stand-in) runs as its own process.
PROVIDERS = ("adyen", "checkout", "paypal", "wechatpay", "alipay")


def provider_modules() -> dict[str, object]:
    """The provider modules present in this checkout, imported (an import error is raised)."""
    found = {}
    for slug in PROVIDERS:
        name = f"backend.sandbox.payments.{slug}"
        if importlib.util.find_spec(name) is not None:
            found[slug] = importlib.import_module(name)
    return found


def mounts(psp: PaymentSandbox) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Mount(f"/{slug}", app=module.create_app(psp))  # type: ignore[attr-defined]
        for slug, module in provider_modules().items()
    ]
    routes.append(Mount("/_sandbox/payments", app=_control(psp)))
    return routes


def _control(psp: PaymentSandbox) -> Starlette:
    async def deliveries(request: Request) -> Response:
        return JSONResponse(
            {"deliveries": psp.notifier.deliveries(request.query_params.get("provider", ""))}
        )

    async def redeliver(request: Request) -> Response:
        try:
            delivery_id = int(request.path_params["id"])
        except ValueError:
            return JSONResponse({"error": "bad_id"}, 400)
        delivery = psp.notifier.redeliver(delivery_id)
        if delivery is None:
            return JSONResponse({"error": "not_found"}, 404)
        return JSONResponse(delivery.view(), 202)

    async def add_account(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            provider, key, record = body["provider"], body["key"], body["record"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected {provider, key, record}"}, 400)
        if provider not in PROVIDERS or not isinstance(key, str) or not isinstance(record, dict):
            return JSONResponse({"error": "unknown provider or bad record"}, 400)
        psp.accounts.add(provider, key, record)
        return JSONResponse({"added": True}, 201)

    async def reset(request: Request) -> Response:
        psp.reset()
        return JSONResponse({"reset": True})

    return Starlette(
        routes=[
            Route("/deliveries", deliveries),
            Route("/deliveries/{id}/redeliver", redeliver, methods=["POST"]),
            Route("/accounts", add_account, methods=["POST"]),
            Route("/reset", reset, methods=["POST"]),
        ]
    )
