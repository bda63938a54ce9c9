"""What both bare baselines share: a psycopg pool from BARE_* settings, /healthz, the lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route


def bare_pool(**connection_kwargs: Any) -> AsyncConnectionPool:
    """An autocommit pool on BARE_DATABASE_URL, opened by the app's lifespan."""
    return AsyncConnectionPool(
        os.environ.get("BARE_DATABASE_URL", ""),
        min_size=int(os.environ.get("BARE_POOL_MIN", "4")),
        max_size=int(os.environ.get("BARE_POOL_MAX", "10")),
        kwargs={"autocommit": True, **connection_kwargs},
        open=False,
    )


def bare_app(routes: list[BaseRoute], pool: AsyncConnectionPool) -> Starlette:
    """The routes plus a /healthz that asks the database, with the pool open while serving."""

    async def healthz(_: Request) -> JSONResponse:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open(wait=True)
        yield
        await pool.close()

    return Starlette(
        routes=[*routes, Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan
    )
