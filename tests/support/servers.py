"""Where the tests find PostgreSQL and Redis: the environment's URLs, or the embedded servers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

from backend.config import PROJECT_ROOT

TEST_DATA_DIR = PROJECT_ROOT / ".data" / "test"
TEST_PG_PORT = 54339  # separate from the run command's servers, so tests never touch demo data
TEST_REDIS_PORT = 63791


@dataclass(frozen=True)
class ServerUrls:
    postgres_admin: str  # a URL to an existing database, used to create test databases
    redis_base: str  # without a database number


def server_urls() -> ServerUrls:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        from backend.embedded import ensure_postgres, ensure_redis

        database_url = database_url or ensure_postgres(TEST_DATA_DIR, TEST_PG_PORT)
        redis_url = redis_url or ensure_redis(TEST_DATA_DIR, TEST_REDIS_PORT)
    return ServerUrls(postgres_admin=_plain(database_url), redis_base=_without_db(redis_url))


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _without_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def with_database(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create `name` on the server behind admin_url; return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
