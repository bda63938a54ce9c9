"""Database engine and sessions; starts the embedded PostgreSQL when no DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine
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
    return create_engine(
        database_url(),
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
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
def read_only() -> Iterator[Connection]:
    """A connection for reads that need no transaction (public lookups on the hot path).

    Autocommit: each statement is its own snapshot, and no BEGIN and COMMIT round trips are
    paid around it. Use session_scope() for anything that writes or must read consistently.
    """
    with get_engine().connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def reset_engine() -> None:
    """Forget the engine (after fork, or when tests point at another database)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    database_url.cache_clear()
