"""Health report logic without servers: part results, status codes, error masking, Celery settings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from starlette.applications import Starlette
from starlette.testclient import TestClient

import backend.jobs.celery_app as celery_module
from backend.api import health as health_api
from backend.config import PROJECT_ROOT
from backend.services import health
from backend.services.health import HealthReport, down, up


def _parts(**statuses: str) -> dict[str, dict[str, Any]]:
    return {
        name: up(1.0) if status == "up" else down(1.0, f"{name} broke")
        for name, status in statuses.items()
    }


# --- report -> HTTP answer -----------------------------------------------------------------


def test_all_parts_up_is_ok_and_200() -> None:
    report = HealthReport.from_parts(_parts(database="up", redis="up", worker="up"))

    status_code, body = health_api.report_response(report)

    assert report.ok is True
    assert status_code == 200
    assert body["status"] == "ok"
    assert {body[name]["status"] for name in ("database", "redis", "worker")} == {"up"}


@pytest.mark.parametrize("failing", ["database", "redis", "worker"])
def test_one_part_down_is_degraded_503_and_names_it(failing: str) -> None:
    statuses = {name: "up" for name in ("database", "redis", "worker")}
    statuses[failing] = "down"
    report = HealthReport.from_parts(_parts(**statuses))

    status_code, body = health_api.report_response(report)

    assert report.ok is False
    assert status_code == 503
    assert body["status"] == "degraded"
    assert body[failing] == {"status": "down", "latency_ms": 1.0, "error": f"{failing} broke"}
    others = [name for name in statuses if name != failing]
    assert all(body[name]["status"] == "up" for name in others)


def test_a_part_missing_from_the_report_counts_as_down() -> None:
    # A report claiming ok but lacking the worker must not pass as healthy.
    report = HealthReport(ok=True, parts=_parts(database="up", redis="up"))

    status_code, body = health_api.report_response(report)

    assert status_code == 503
    assert body["worker"]["status"] == "down"
    assert body["worker"]["error"] == "not checked"


def test_empty_report_is_not_ok() -> None:
    assert HealthReport.from_parts({}).ok is False


def test_healthz_endpoint_passes_the_configured_timeout_and_answers_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[float] = []

    def fake_check(timeout: float) -> HealthReport:
        seen.append(timeout)
        return HealthReport.from_parts(_parts(database="down", redis="up", worker="up"))

    monkeypatch.setenv("HEALTH_WORKER_TIMEOUT_SECONDS", "1.25")
    health_api.get_settings.cache_clear()
    monkeypatch.setattr(health_api, "check_health", fake_check)
    try:
        with TestClient(Starlette(routes=health_api.routes)) as client:
            response = client.get("/healthz")
    finally:
        health_api.get_settings.cache_clear()

    assert seen == [1.25]
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["status"] == "degraded"
    assert response.json()["database"]["error"] == "database broke"


# --- error text ----------------------------------------------------------------------------


def test_short_error_masks_urls_and_credentials_and_keeps_one_line() -> None:
    exc = ConnectionError(
        "cannot reach redis://:hunter2@cache.internal:6379/0 (password=s3cret)\n"
        "Background on this error at: https://sqlalche.me/e/20/e3q8"
    )

    message = health.short_error(exc)

    assert message.startswith("ConnectionError: cannot reach <url>")
    assert "hunter2" not in message
    assert "s3cret" not in message
    assert "sqlalche.me" not in message
    assert "\n" not in message


def test_short_error_is_bounded_and_names_the_type_when_there_is_no_message() -> None:
    assert health.short_error(TimeoutError()) == "TimeoutError"
    assert len(health.short_error(RuntimeError("x" * 1000))) == health.MAX_ERROR_CHARS


# --- the checks, with fakes ----------------------------------------------------------------


def test_database_failure_is_reported_down_with_a_masked_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_engine() -> Any:
        raise OSError("connect to postgresql://app:pw123@db:5432/waybill failed")

    monkeypatch.setattr(health, "get_engine", broken_engine)

    part = health.check_database()

    assert part["status"] == "down"
    assert "pw123" not in part["error"]
    assert part["error"].startswith("OSError: connect to <url>")
    assert part["latency_ms"] >= 0


class _FakeRedis:
    def __init__(self, fail: bool = False, beat: bytes | None = None) -> None:
        self.fail = fail
        self.values: dict[str, Any] = {"waybill:worker:heartbeat": beat} if beat else {}

    def ping(self) -> bool:
        if self.fail:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return True

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


def test_redis_up_reports_the_last_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeRedis(beat=b"2026-01-01T00:00:00+00:00")
    monkeypatch.setattr(health, "get_redis", lambda: fake)

    part = health.check_redis()

    assert part["status"] == "up"
    assert part["last_heartbeat_at"] == "2026-01-01T00:00:00+00:00"


def test_redis_down_skips_the_worker_ping_and_marks_it_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "get_redis", lambda: _FakeRedis(fail=True))
    pinged: list[float] = []
    monkeypatch.setattr(health, "check_worker", lambda timeout: pinged.append(timeout) or up(1))

    parts = health._check_redis_then_worker(5.0)

    assert pinged == []
    assert parts["redis"]["status"] == "down"
    assert "Connection refused" in parts["redis"]["error"]
    assert parts["worker"]["status"] == "down"
    assert "redis" in parts["worker"]["error"]


class _FakeResult:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.waited: float | None = None
        self.forgotten = False

    def get(self, timeout: float, interval: float) -> Any:
        self.waited = timeout
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    def forget(self) -> None:
        self.forgotten = True


def _fake_send(monkeypatch: pytest.MonkeyPatch, result: _FakeResult) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def send_task(name: str, **options: Any) -> _FakeResult:
        sent.append({"name": name, **options})
        return result

    monkeypatch.setattr(celery_module.celery_app, "send_task", send_task)
    return sent


def test_worker_answer_is_up_and_names_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _FakeResult({"pong": True, "worker": "celery@box", "at": "now"})
    sent = _fake_send(monkeypatch, result)

    part = health.check_worker(2.5)

    assert part["status"] == "up"
    assert part["worker"] == "celery@box"
    assert sent == [
        {"name": "waybill.health.ping", "queue": "default", "expires": 2.5, "retry": False}
    ]
    assert result.waited == 2.5
    assert result.forgotten is True


def test_worker_silence_is_down_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _FakeResult(CeleryTimeout("The operation timed out."))
    _fake_send(monkeypatch, result)

    part = health.check_worker(0.5)

    assert part["status"] == "down"
    assert part["error"] == "no worker answered within 0.5s"
    assert result.forgotten is True


def test_check_health_runs_the_parts_and_combines_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "check_database", lambda: up(1.0))
    monkeypatch.setattr(health, "check_redis", lambda: up(2.0))
    monkeypatch.setattr(health, "check_worker", lambda timeout: down(3.0, f"waited {timeout}"))

    report = health.check_health(0.75)

    assert report.ok is False
    assert report.parts["database"]["status"] == "up"
    assert report.parts["redis"]["status"] == "up"
    assert report.parts["worker"] == {"status": "down", "latency_ms": 3.0, "error": "waited 0.75"}


def test_a_stuck_probe_is_reported_down_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def stuck_database() -> dict[str, Any]:
        release.wait(30)
        return up(0.0)

    monkeypatch.setattr(health, "GRACE_SECONDS", 0.2)
    monkeypatch.setattr(health, "check_database", stuck_database)
    monkeypatch.setattr(health, "check_redis", lambda: up(1.0))
    monkeypatch.setattr(health, "check_worker", lambda timeout: up(1.0))
    try:
        started = time.monotonic()
        report = health.check_health(0.3)
        elapsed = time.monotonic() - started
    finally:
        release.set()

    assert elapsed < 5
    assert report.ok is False
    assert report.parts["database"]["status"] == "down"
    assert report.parts["database"]["error"].startswith("timed out after")
    assert report.parts["redis"]["status"] == "up"


def test_a_probe_that_raises_is_reported_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(timeout: float) -> Any:
        raise RuntimeError("bug in the chain")

    monkeypatch.setattr(health, "check_database", lambda: up(1.0))
    monkeypatch.setattr(health, "_check_redis_then_worker", explode)

    report = health.check_health(0.5)

    assert report.parts["redis"]["status"] == "down"
    assert report.parts["worker"]["error"] == "RuntimeError: bug in the chain"


# --- task bodies ---------------------------------------------------------------------------


def test_ping_answer_and_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeRedis()
    monkeypatch.setattr(health, "get_redis", lambda: fake)

    answer = health.ping_answer("test@box")
    at = health.record_heartbeat()

    assert answer["pong"] is True
    assert answer["worker"] == "test@box"
    assert answer["at"].endswith("+00:00")
    assert fake.values[health.HEARTBEAT_KEY] == at


# --- Celery settings -----------------------------------------------------------------------


def _app_with_settings() -> Celery:
    app = Celery("settings-under-test", set_as_current=False)
    app.conf.update(celery_module.celery_settings("redis://127.0.0.1:1/3"))
    return app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("waybill.webhooks.process_inbox", "webhooks"),
        ("waybill.tracking.poll_carrier", "tracking"),
        ("waybill.ingest.pull_feed", "ingest"),
        ("waybill.reports.export", "reports"),
        ("waybill.health.ping", "default"),
        ("waybill.loyalty.expire_points", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue_by_name(task: str, queue: str) -> None:
    app = _app_with_settings()

    route = app.amqp.router.route({}, task)

    assert route["queue"].name == queue


def test_celery_settings_are_safe_for_idempotent_tasks_and_json_only() -> None:
    conf = _app_with_settings().conf

    assert conf.broker_url == conf.result_backend == conf.redbeat_redis_url
    assert {queue.name for queue in conf.task_queues} == {
        "webhooks",
        "tracking",
        "ingest",
        "reports",
        "default",
    }
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.result_expires.total_seconds() == 3600
    assert conf.beat_scheduler == "redbeat.RedBeatScheduler"
    # The lock must outlive the gap between two ticks, or two beats could both hold it.
    assert conf.redbeat_lock_timeout > conf.beat_max_loop_interval
    heartbeat = conf.beat_schedule["waybill-health-heartbeat"]
    assert heartbeat["task"] == "waybill.health.heartbeat"
    assert heartbeat["schedule"] == 30.0


def test_importing_the_app_and_tasks_does_not_resolve_redis() -> None:
    # With no REDIS_URL, resolving it would start an embedded Redis: imports must not do that.
    code = (
        "import backend.api.health, backend.jobs.health_tasks, backend.services.health\n"
        "from backend import cache\n"
        "from backend.jobs.celery_app import celery_app\n"
        "assert cache.redis_url.cache_info().currsize == 0, 'redis url resolved on import'\n"
        "assert not celery_app.configured, 'celery configuration read on import'\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["DATA_DIR"] = "/nonexistent-waybill-data"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
