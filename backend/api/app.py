"""Assembles every HTTP route of ours into one Starlette app that Reflex mounts (api_transformer)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from backend.api import auth_routes, carrier_webhooks, health, payment_webhooks, tracking_api


def routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *auth_routes.routes,
        *tracking_api.routes,
        *carrier_webhooks.routes,
        *payment_webhooks.routes,
    ]


def build_api(extra: list[BaseRoute] | None = None) -> Starlette:
    """Our routes, plus any the UI layer adds (the live-update route needs the Reflex app)."""
    return Starlette(routes=[*routes(), *(extra or [])])
