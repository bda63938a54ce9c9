"""Shared helpers for the payment providers' sandbox tests: a webhook receiver and processes.

- `webhook_receiver` (module): a threaded HTTP server on 127.0.0.1 that keeps every
  POST with its raw headers, body and arrival time, and answers 200 unless a test asks
  for another status (to see a provider retry).
- `services` (module): starts processes (a sandbox on a free port), waits for a health
  URL, and stops them with SIGTERM at the end of the module, failing unless each exits 0.
- `free_port()`: a port nobody listens on right now.
Providers add their own fixtures at the end of this file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from backend.services.payment_demo import DemoProvision, DemoTenant

ROOT = Path(__file__).resolve().parents[3]
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    arrived_at: datetime

    def json(self):
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                hit = Received(self.path, dict(self.headers.items()), body, datetime.now(UTC))
                with receiver._lock:
                    receiver._received.append(hit)
                    queued = receiver._answers.get(self.path) or []
                    status = queued.pop(0) if queued else 200
                answer = receiver.body_for(self.path) if status < 300 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def received(self, path_prefix: str = "") -> list[Received]:
        with self._lock:
            return [hit for hit in self._received if hit.path.startswith(path_prefix)]

    def wait_for(self, match: Callable[[Received], bool], timeout: float = 15.0) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for hit in self.received():
                if match(hit):
                    return hit
            time.sleep(0.05)
        raise AssertionError(f"no matching webhook within {timeout} s; got {self.received()}")

    def body_for(self, path: str) -> bytes:
        """What a delivery to `path` is answered with: "success" where Alipay expects it."""
        return b"success" if "alipay" in path else b""

    def answer_next(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next `times` deliveries to `path` with `status` instead of 200."""
        with self._lock:
            self._answers.setdefault(path, []).extend([status] * times)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


class Services:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: list[tuple[str, subprocess.Popen, Path]] = []

    def start(
        self, name: str, argv: list[str], health_url: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Run `python <argv>` from the project root until `health_url` answers 200."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._running.append((name, proc, log_path))
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(health_url, timeout=1, trust_env=False).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(proc)
        pytest.fail(f"{name} did not start:\n{log_path.read_text(errors='replace')}")

    @staticmethod
    def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        return proc.returncode

    def stop_all(self) -> list[str]:
        """Stop every process; the names (and logs) of those that did not exit 0."""
        failures = []
        for name, proc, log_path in self._running:
            if self.stop(proc) != 0:
                failures.append(f"{name} exited {proc.returncode}:\n{log_path.read_text()}")
        return failures


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    started = Services(tmp_path_factory.mktemp("services"))
    try:
        yield started
    finally:
        failures = started.stop_all()
    assert not failures, "\n".join(failures)


# --- Stripe: localstripe through backend/sandbox/stripe_server.py, one process per tenant ---


@dataclass(frozen=True)
class StripeTenant:
    slug: str
    account: object  # ProviderAccount: what our side stores for this tenant
    record: dict  # what this tenant's localstripe was given (keys, webhook URL and secret)
    webhook_path: str
    port: int
    process: subprocess.Popen


@pytest.fixture(scope="module")
def stripe_tenants(
    tmp_path_factory: pytest.TempPathFactory, webhook_receiver: WebhookReceiver, services: Services
) -> dict[str, StripeTenant]:
    """Two demo tenants ("stripe-east", "stripe-west"), each with its own keys and localstripe."""
    from backend.integrations.payments.base import ProviderAccount
    from backend.services.payment_demo import DemoTenant
    from backend.services.payment_demo.stripe import provision

    accounts = tmp_path_factory.mktemp("stripe") / "accounts.json"
    made = {}
    for slug in ("stripe-east", "stripe-west"):
        port, path = free_port(), f"/webhooks/payments/stripe/{slug}"
        demo_tenant = DemoTenant(
            slug=slug,
            name=slug.replace("-", " ").title(),
            currency="HKD",
            sandbox_url="http://127.0.0.1:9",  # not used by Stripe
            stripe_url=f"http://127.0.0.1:{port}",
            webhook_url=webhook_receiver.url + path,
        )
        made[slug] = (port, path, provision(demo_tenant))
    records = {demo.sandbox_key: demo.sandbox_record for _, _, demo in made.values()}
    accounts.write_text(json.dumps({"stripe": records}))
    tenants = {}
    for slug, (port, path, demo) in made.items():
        argv = ["-m", "backend.sandbox.stripe_server", "--port", str(port), "--tenant", slug]
        argv += ["--accounts", str(accounts), "--webhook-backoff", "0.2"]
        process = services.start(f"localstripe-{slug}", argv, f"{demo.api_base}/_sandbox/health")
        account = ProviderAccount("stripe", demo.api_base, demo.settings, demo.secrets)
        tenants[slug] = StripeTenant(slug, account, demo.sandbox_record, path, port, process)
    return tenants


# --- shared by the provider sandbox tests ----------------------------------------------


def start_provider_sandbox(
    services: Services,
    receiver: WebhookReceiver,
    workdir: Path,
    provider: str,
    provision: Callable[[DemoTenant], DemoProvision],
    tenants: Iterable[str],
    hook_path: Callable[[str], str],
) -> tuple[str, dict[str, DemoProvision]]:
    """`python -m backend.sandbox` on a free port, knowing one account per tenant at `provider`,
    each sending its webhooks to the receiver; returns its URL and the tenants' provisions."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provisions = {
        slug: provision(
            DemoTenant(
                slug=slug,
                name=slug.replace("-", " ").title(),
                currency="HKD",
                sandbox_url=url,
                stripe_url="",
                webhook_url=receiver.url + hook_path(slug),
            )
        )
        for slug in tenants
    }
    accounts = workdir / "psp_accounts.json"
    accounts.write_text(
        json.dumps({provider: {p.sandbox_key: p.sandbox_record for p in provisions.values()}})
    )
    services.start(
        "sandbox",
        ["-m", "backend.sandbox", "--port", str(port), "--log-level", "warning"],
        f"{url}/_sandbox/health",
        env={"SANDBOX_PSP_ACCOUNTS": str(accounts), "SANDBOX_PUSH_BACKOFF_SECONDS": "0.05"},
    )
    return url, provisions


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def press(http: httpx.Client, url: str, action: str, **form: str) -> httpx.Response:
    """Press a button on a sandbox hosted page, as the customer's browser would."""
    return http.post(url, data={"action": action, **form}, follow_redirects=False)
