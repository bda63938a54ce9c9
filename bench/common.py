"""What the benchmarks share: where PostgreSQL and Redis are, and the bench database.

With DATABASE_URL and REDIS_URL set, the benchmarks use those servers (the URL's
database is only used to create the bench database next to it). Otherwise they
start embedded servers of their own under .data/bench, on ports apart from the
demo's and the tests', so a 10-million-row table never lands in either.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from backend.config import PROJECT_ROOT

BENCH_DATA_DIR = PROJECT_ROOT / ".data" / "bench"
# The product's DATA_DIR in a benchmark: its master key must be the one the bench data was sealed with.
BENCH_APP_DIR = BENCH_DATA_DIR / "app"
BENCH_PG_PORT = 54349
BENCH_REDIS_PORT = 63799
DEFAULT_DATABASE = "waybill_bench"
PREFIX = "BN"  # the S10 service prefix of every bench shipment: BN00000000?HK, BN00000001?HK, ...


@dataclass(frozen=True)
class Servers:
    postgres_admin: str  # plain postgresql:// URL of an existing database
    redis_base: str  # redis://host:port, without a database number
    embedded: bool  # True when these are our own embedded servers
    started: bool = False  # True when this process started them (and so should stop them)

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.postgres_admin)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def redis_url(self, db: int) -> str:
        return f"{self.redis_base}/{db}"


def plain_url(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy's postgresql+psycopg:// is not a libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def servers() -> Servers:
    """The environment's servers, or embedded ones under .data/bench (started if needed)."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        parts = urlsplit(redis_url)
        base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        return Servers(plain_url(database_url), base, embedded=False)
    from backend.embedded import ensure_postgres, ensure_redis

    was_running = _listening(BENCH_PG_PORT) and _listening(BENCH_REDIS_PORT)
    database_url = ensure_postgres(BENCH_DATA_DIR, BENCH_PG_PORT)
    ensure_redis(BENCH_DATA_DIR, BENCH_REDIS_PORT)
    redis_base = f"redis://127.0.0.1:{BENCH_REDIS_PORT}"
    return Servers(plain_url(database_url), redis_base, embedded=True, started=not was_running)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_servers(found: Servers) -> None:
    """Stop the embedded servers if this process started them (never the environment's)."""
    if found.embedded and found.started:
        from backend.embedded import stop_embedded

        stop_embedded(BENCH_DATA_DIR, BENCH_PG_PORT, BENCH_REDIS_PORT)


def database_exists(found: Servers, name: str) -> bool:
    with psycopg.connect(found.postgres_admin, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def recreate_database(found: Servers, name: str) -> str:
    """Drop and create database `name`; return its URL."""
    with psycopg.connect(found.postgres_admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return found.database_url(name)


def drop_database(found: Servers, name: str) -> None:
    with psycopg.connect(found.postgres_admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def bench_shipment_count(database_url: str) -> int:
    """How many bench shipments the database holds (0 when it has no schema yet)."""
    try:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM shipment WHERE tracking_number LIKE %s", (f"{PREFIX}%",)
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0
