"""End-to-end fixtures: the production server started as `make run` starts it, and Chromium.

The server runs `python -m backend.cli run` (migrate, demo data, Reflex in prod mode,
a Celery worker and beat) against a fresh database and its own Redis database, on a
port of its own, once per test session. Playwright drives Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from backend.config import PROJECT_ROOT
from tests.support import servers

E2E_PORT = int(os.environ.get("WAYBILL_E2E_PORT", "3100"))
E2E_REDIS_DB = 14
E2E_SANDBOX_PORT = int(os.environ.get("WAYBILL_E2E_SANDBOX_PORT", "8791"))
E2E_STRIPE_PORT = int(os.environ.get("WAYBILL_E2E_STRIPE_PORT", "8430"))
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    urls = servers.server_urls()
    database_url = servers.recreate_database(urls.postgres_admin, "waybill_e2e")
    redis_url = f"{urls.redis_base}/{E2E_REDIS_DB}"
    redis_lib.Redis.from_url(redis_url).flushdb()
    data_dir = PROJECT_ROOT / ".data" / "e2e"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PORT=str(E2E_PORT),
        DATA_DIR=str(data_dir),
        PUBLIC_URL=f"http://localhost:{E2E_PORT}",
        SANDBOX_PORT=str(E2E_SANDBOX_PORT),  # apart from a demo's sandbox on 8790
        STRIPE_SANDBOX_PORT=str(E2E_STRIPE_PORT),  # and from its localstripes on 8420, 8421
    )
    log_path = data_dir / "run.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv/bin/python"), "-m", "backend.cli", "run", "--keep-services"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://localhost:{E2E_PORT}"
    try:
        _wait_for_banner(server, log_path, timeout=600)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C does
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        servers.drop_database(urls.postgres_admin, "waybill_e2e")


def _wait_for_banner(server: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Waybill is up" in log_path.read_text(errors="replace"):
            return
        if server.poll() is not None:
            break
        time.sleep(1)
    pytest.fail(f"the portal did not start:\n{log_path.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookies, no storage."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
