"""The sandbox's ASGI app: three carriers, five payment providers and /_sandbox, in one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from backend.sandbox.carriers import control, harbour_post, pearl_river, swiftlink
from backend.sandbox.carriers.settings import SandboxSettings, load_settings
from backend.sandbox.carriers.state import Sandbox
from backend.sandbox.payments import app as payments_app
from backend.sandbox.payments.accounts import PspAccounts
from backend.sandbox.payments.notifier import Notifier
from backend.sandbox.payments.state import PaymentSandbox

log = logging.getLogger("waybill.sandbox")


def create_app(settings: SandboxSettings | None = None) -> Starlette:
    """Build the app; settings come from SANDBOX_* variables unless given."""
    settings = settings or load_settings()
    sandbox = Sandbox.build(settings)
    psp = PaymentSandbox(
        PspAccounts(settings.psp_accounts_path),
        Notifier(
            settings.push_attempts, settings.push_backoff_seconds, settings.push_backoff_cap_seconds
        ),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.pushes.start()
        await psp.notifier.start()
        try:
            yield
        finally:
            await psp.notifier.stop()
            await sandbox.pushes.stop()

    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("sandbox bug on %s", request.url.path, exc_info=exc)
        return JSONResponse({"error": "sandbox_bug"}, status_code=500)

    app = Starlette(
        routes=[
            Mount("/harbour-post", app=harbour_post.create_app(sandbox)),
            Mount("/pearl-river", app=pearl_river.create_app(sandbox)),
            Mount("/swiftlink", app=swiftlink.create_app(sandbox)),
            # Before /_sandbox, so that /_sandbox/payments reaches the payments' controls.
            *payments_app.mounts(psp),
            Mount("/_sandbox", app=control.create_app(sandbox)),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: crashed},
    )
    app.state.sandbox = sandbox
    app.state.payments = psp
    return app
