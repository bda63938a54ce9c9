"""Health of the system: database, Redis and a Celery worker, each probed with a time limit."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from sqlalchemy import text

from backend.cache import get_redis
from backend.db import get_engine

# Only the app: the ping goes out by task name, so services never import task modules.
from backend.jobs.celery_app import DEFAULT_QUEUE, celery_app

PING_TASK = "waybill.health.ping"
HEARTBEAT_KEY = "waybill:worker:heartbeat"
PARTS = ("database", "redis", "worker")

# Database and Redis carry their own connect timeouts; this is the slack beyond the worker
# timeout before a probe that is still stuck is reported down anyway.
GRACE_SECONDS = 2.0
MAX_ERROR_CHARS = 160

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_SECRET_PAIR = re.compile(r"\b(password|passwd|pwd|token|secret)=\S+", re.IGNORECASE)


@dataclass
class HealthReport:
    ok: bool
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_parts(cls, parts: dict[str, dict[str, Any]]) -> HealthReport:
        ok = bool(parts) and all(part.get("status") == "up" for part in parts.values())
        return cls(ok=ok, parts=parts)


def up(latency_ms: float, **extra: Any) -> dict[str, Any]:
    return {"status": "up", "latency_ms": round(latency_ms, 2), **extra}


def down(latency_ms: float, error: str, **extra: Any) -> dict[str, Any]:
    return {"status": "down", "latency_ms": round(latency_ms, 2), "error": error, **extra}


def short_error(exc: BaseException) -> str:
    """One line naming the failure, with URLs and credentials masked (health is public)."""
    lines = str(exc).strip().splitlines()
    message = lines[0].strip() if lines else ""
    message = _SECRET_PAIR.sub(r"\1=***", _URL.sub("<url>", message))
    text_ = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text_[:MAX_ERROR_CHARS]


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with get_engine().connect() as conn:
            # SET LOCAL ends with the transaction, so pooled connections keep their defaults.
            conn.execute(text("SET LOCAL statement_timeout = 2000"))
            conn.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:
        return down(_elapsed_ms(started), short_error(exc))
    return up(_elapsed_ms(started))


def check_redis() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        client = get_redis()
        client.ping()
        latency = _elapsed_ms(started)
        beat = client.get(HEARTBEAT_KEY)
    except Exception as exc:
        return down(_elapsed_ms(started), short_error(exc))
    return up(latency, last_heartbeat_at=beat.decode() if beat else None)


def check_worker(timeout: float) -> dict[str, Any]:
    """Round-trip a ping task through the default queue; down if no answer within `timeout`."""
    started = time.perf_counter()
    result = None
    try:
        # retry=False: with the broker gone the publish fails now instead of retrying.
        # expires: a ping nobody picked up in time is dropped rather than answered later.
        result = celery_app.send_task(PING_TASK, queue=DEFAULT_QUEUE, expires=timeout, retry=False)
        answer = result.get(timeout=timeout, interval=0.05)
    except CeleryTimeout:
        return down(_elapsed_ms(started), f"no worker answered within {timeout:g}s")
    except Exception as exc:
        return down(_elapsed_ms(started), short_error(exc))
    finally:
        if result is not None:
            with suppress(Exception):
                result.forget()
    return up(_elapsed_ms(started), worker=answer.get("worker"))


def _check_redis_then_worker(timeout: float) -> dict[str, dict[str, Any]]:
    redis_part = check_redis()
    if redis_part["status"] != "up":
        # The worker is reached through Redis: without it a ping could only hang or fail.
        worker_part = down(0.0, "unknown: the broker (redis) is down")
    else:
        worker_part = check_worker(timeout)
    return {"redis": redis_part, "worker": worker_part}


def check_health(timeout: float) -> HealthReport:
    """Probe every part at once; the answer comes within about `timeout` + GRACE_SECONDS."""
    executor = _executor()
    started = time.perf_counter()
    database = executor.submit(check_database)
    chain = executor.submit(_check_redis_then_worker, timeout)
    wait([database, chain], timeout=timeout + GRACE_SECONDS)

    def failed(future: Future[Any]) -> dict[str, Any] | None:
        if not future.done():
            return down(_elapsed_ms(started), f"timed out after {timeout + GRACE_SECONDS:g}s")
        exc = future.exception()
        return down(_elapsed_ms(started), short_error(exc)) if exc is not None else None

    parts = {"database": failed(database) or database.result()}
    chain_failure = failed(chain)
    if chain_failure is not None:
        parts.update(redis=chain_failure, worker=dict(chain_failure))
    else:
        parts.update(chain.result())
    return HealthReport.from_parts(parts)


# Long-lived probe threads: Celery keeps one result backend (a Redis connection) per thread,
# so fresh threads per request would open fresh connections each time.
_executor_lock = threading.Lock()
_probe_executor: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _probe_executor
    with _executor_lock:
        if _probe_executor is None:
            _probe_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
        return _probe_executor


def _forget_executor_after_fork() -> None:
    # Threads do not survive fork: a forked server worker must start its own pool.
    global _probe_executor, _executor_lock
    _probe_executor = None
    _executor_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_executor_after_fork)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def ping_answer(worker: str | None) -> dict[str, Any]:
    """What a worker answers to the health ping."""
    return {"pong": True, "worker": worker or socket.gethostname(), "at": now_iso()}


def record_heartbeat() -> str:
    """Beat's periodic proof that the scheduler and a worker both run; shown by /healthz."""
    at = now_iso()
    get_redis().set(HEARTBEAT_KEY, at)
    return at
