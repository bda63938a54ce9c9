"""Database engine and sessions; starts the embedded PostgreSQL when no DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from backend.config import get_settings


def sqlalchemy_url(url: str) -> str:
    """Accept plain postgres:// URLs and use the psycopg 3 driver for all of them."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")


@lru_cache(maxsize=1)
def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    from backend.embedded import ensure_postgres

    return ensure_postgres(settings.data_dir, settings.embedded_postgres_port)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """One pooled engine per process, created on first use (never at import time)."""
    settings = get_settings()
    return create_engine(
        database_url(),
        pool_pre_ping=True,
        # Connections kept open per process. Past pool_size, each extra connection is opened
        # for one request and closed after it: under load that churn (a PostgreSQL backend
        # started per request) costs more than the request, so the pool is sized for the
        # thread pool's usual concurrency rather than the minimum.
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"connect_timeout": 5},
    )


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def driver_autocommit() -> Iterator[psycopg.Connection]:
    """The pool's psycopg connection itself, in autocommit mode, for the hot paths of single
    statements compiled once (a public tracking lookup, storing a webhook): no BEGIN and
    COMMIT round trips, and none of SQLAlchemy's work per execution (cache key, statement
    context, result metadata), which cost more than the query did.

    Parameters and rows are psycopg's own, without SQLAlchemy's type processing (wrap JSONB
    values in psycopg's Jsonb). Use session_scope() for anything that needs several
    statements to hold together.
    """
    pooled = get_engine().raw_connection()  # checked out (and pinged) like any other
    driver: psycopg.Connection = pooled.driver_connection  # type: ignore[assignment]
    try:
        driver.autocommit = True
        yield driver
    finally:
        if driver.broken or driver.closed:
            pooled.invalidate()  # never hand a dead connection to the next request
        else:
            driver.autocommit = False  # as the pool's other users expect it
        pooled.close()


def reset_engine() -> None:
    """Forget the engine (after fork, or when tests point at another database)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    database_url.cache_clear()
