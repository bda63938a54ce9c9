"""Fixtures for every suite: a fresh migrated database and a private Redis database per session.

Unit tests use none of these and need no server. Integration and end-to-end tests
get real servers: the ones named by DATABASE_URL / REDIS_URL, or embedded ones
started under .data/test (separate from the demo's servers).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis as redis_lib
from sqlalchemy import text

from backend import cache, db
from backend.config import get_settings
from tests.support import servers

TEST_REDIS_DB = 15


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def test_urls() -> Iterator[dict[str, str]]:
    """Point this process's settings at a fresh test database and Redis database."""
    urls = servers.server_urls()
    name = f"waybill_test_{os.getpid()}"
    database_url = servers.recreate_database(urls.postgres_admin, name)
    redis_url = f"{urls.redis_base}/{TEST_REDIS_DB}"
    redis_lib.Redis.from_url(redis_url).flushdb()
    saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_URL")}
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    _forget_connections()
    yield {"database_url": database_url, "redis_url": redis_url, "admin_url": urls.postgres_admin}
    _forget_connections()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    servers.drop_database(urls.postgres_admin, name)


def _forget_connections() -> None:
    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()


@pytest.fixture(scope="session")
def migrated_db(test_urls: dict[str, str]) -> str:
    """The test database upgraded to the newest migration."""
    from backend.services.schema import upgrade_to_head

    upgrade_to_head()
    return test_urls["database_url"]


@pytest.fixture
def clean_db(migrated_db: str) -> Iterator[None]:
    """An empty schema for each test that writes (and no per-process cache of the old one)."""
    _truncate_all()
    _forget_cached_rows()
    yield


def _forget_cached_rows() -> None:
    from backend.services import payment_accounts, pricing, tenants

    tenants._ids.clear()
    payment_accounts.forget_opened_accounts()
    pricing._cache.clear()


def _truncate_all() -> None:
    from sqlmodel import SQLModel

    import backend.models  # noqa: F401

    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with db.get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def redis_client(test_urls: dict[str, str]) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(test_urls["redis_url"])
    client.flushdb()
    yield client
    client.flushdb()
