"""Command line for operators: `python -m backend.cli {env,migrate,seed,run,stop-services}`.

`run` is what `make run` ends in: it brings up (embedded) PostgreSQL and Redis,
migrates, loads the demo, then supervises the Reflex app, a Celery worker and
Celery beat until Ctrl-C, which stops all of them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from backend.config import PROJECT_ROOT, get_settings

BIN = Path(sys.executable).parent
WORKER_QUEUES = "webhooks,tracking,ingest,reports,default"


def resolved_urls() -> dict[str, str]:
    """DATABASE_URL and REDIS_URL, starting the embedded servers for whichever is unset."""
    from backend.cache import redis_url
    from backend.db import database_url

    return {"DATABASE_URL": database_url(), "REDIS_URL": redis_url()}


def cmd_env(_: argparse.Namespace) -> int:
    for key, value in resolved_urls().items():
        print(f"export {key}='{value}'")
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from backend.services.schema import upgrade_to_head

    upgrade_to_head()
    print("database migrated to head")
    return 0


def cmd_seed(_: argparse.Namespace) -> int:
    from backend.services.demo_data import seed_demo_data

    print("demo data loaded" if seed_demo_data() else "demo data already present")
    return 0


def cmd_stop_services(_: argparse.Namespace) -> int:
    from backend.embedded import stop_embedded

    settings = get_settings()
    stop_embedded(settings.data_dir, settings.embedded_postgres_port, settings.embedded_redis_port)
    print("embedded servers stopped")
    return 0


def child_env(urls: dict[str, str]) -> dict[str, str]:
    """Environment for the app and workers: one set of URLs, local bun, no telemetry."""
    env = dict(os.environ, **urls)
    env.setdefault("INTERNAL_TOKEN", secrets.token_urlsafe(32))
    env["REFLEX_USE_SYSTEM_BUN"] = "1"
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    bun_dir = PROJECT_ROOT / ".venv" / "bun" / "node_modules" / ".bin"
    env["PATH"] = os.pathsep.join([str(bun_dir), str(BIN), env.get("PATH", "")])
    return env


def app_command(port: int) -> list[str]:
    return [
        str(BIN / "reflex"),
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--loglevel",
        "warning",
    ]


def worker_command(name: str = "worker", concurrency: int = 2) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "backend.jobs.celery_app",
        "worker",
        "-Q",
        WORKER_QUEUES,
        "--concurrency",
        str(concurrency),
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
    ]


def sandbox_command(port: int) -> list[str]:
    """The demo's offline carriers (backend/sandbox), at the URLs the demo accounts point to."""
    return [
        str(BIN / "python"),
        "-m",
        "backend.sandbox",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def stripe_sandbox_command(port: int, tenant_slug: str) -> list[str]:
    """localstripe for one demo tenant (it keeps one state per process, not per API key)."""
    return [
        str(BIN / "python"),
        "-m",
        "backend.sandbox.stripe_server",
        "--port",
        str(port),
        "--tenant",
        tenant_slug,
        "--log-level",
        "warning",
    ]


def beat_command() -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "backend.jobs.celery_app",
        "beat",
        "-S",
        "redbeat.RedBeatScheduler",
        "--loglevel",
        "INFO",
    ]


class Supervisor:
    """Starts child processes in their own process groups and stops them all together."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], *, to_log: bool = True) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{name}.log", "ab") if to_log else None  # noqa: SIM115
        self.children[name] = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def first_dead(self) -> str | None:
        for name, child in self.children.items():
            if child.poll() is not None:
                return name
        return None

    def stop(self, grace_seconds: float = 15) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def wait_until_healthy(base_url: str, supervisor: Supervisor, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = supervisor.first_dead()
        if dead:
            raise RuntimeError(f"{dead} exited during start-up; see .data/logs/{dead}.log")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the portal did not become healthy within {timeout:.0f}s")


def banner(base_url: str) -> str:
    from backend.services.demo_data import (
        MEMBER_LOGIN,
        STAFF_LOGINS,
        TENANTS,
        demo_tracking_numbers,
    )

    lines = [
        "",
        f"  Waybill is up:   {base_url}",
        f"  Staff portal:    {base_url}/staff",
        f"  Health:          {base_url}/healthz",
        "",
        f"  Member:          {MEMBER_LOGIN.email} / {MEMBER_LOGIN.password}",
    ]
    lines += [f"  Staff:           {s.email} / {s.password}  ({s.role})" for s in STAFF_LOGINS]
    lines += [f"  Tenants:         {', '.join(t['slug'] for t in TENANTS)}"]
    numbers = demo_tracking_numbers()
    lines += [
        f"  Tracking:        {numbers['in_transit']} (in transit), "
        f"{numbers['delivered']} (delivered), {numbers['delivery_failed']} (failed delivery)"
    ]
    lines += ["", "  Logs in .data/logs/. Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def demo_tenant_slugs() -> list[str]:
    from backend.services.demo_data import TENANTS

    return [t["slug"] for t in TENANTS]


def sandbox_accounts_path():
    from backend.services.demo_commerce import sandbox_accounts_path as path

    return path()


def cmd_run(args: argparse.Namespace) -> int:
    settings = get_settings()
    started_embedded = not (settings.database_url and settings.redis_url)
    urls = resolved_urls()
    cmd_migrate(args)
    cmd_seed(args)
    if shutil.which("bun", path=child_env(urls)["PATH"]) is None:
        print("bun is missing: run `make run` (it installs bun from npm)", file=sys.stderr)
        return 1
    env = child_env(urls)
    # The demo moves faster than production: a poll "unit" of 0.5 s instead of 60 s, so that a
    # parcel in transit is looked at every 15 s (a new one every 30 s) while a person watches
    # it, about as often as the sandbox carriers move their parcels (a step every 20 s).
    env.setdefault("TRACKING_POLL_UNIT_SECONDS", "0.5")
    # The sandbox providers read the merchant accounts the demo data generated for them.
    env["SANDBOX_PSP_ACCOUNTS"] = str(sandbox_accounts_path())
    supervisor = Supervisor(env, settings.data_dir / "logs")
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        supervisor.start("sandbox", sandbox_command(settings.sandbox_port))
        for index, slug in enumerate(demo_tenant_slugs()):
            port = settings.stripe_sandbox_port + index
            supervisor.start(f"stripe-{slug}", stripe_sandbox_command(port, slug))
        supervisor.start("worker", worker_command())
        supervisor.start("beat", beat_command())
        print(
            f"building and starting the portal on port {settings.port} (first build takes a minute)…"
        )
        supervisor.start("app", app_command(settings.port))
        wait_until_healthy(f"http://127.0.0.1:{settings.port}", supervisor, args.start_timeout)
        print(banner(settings.base_url), flush=True)
        while not stopping:
            dead = supervisor.first_dead()
            if dead:
                print(f"{dead} stopped unexpectedly; see .data/logs/{dead}.log", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as error:
        print(f"start-up failed: {error}", file=sys.stderr)
        return 1
    finally:
        print("stopping Waybill…", flush=True)
        supervisor.stop()
        if started_embedded and not args.keep_services:
            cmd_stop_services(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="print DATABASE_URL and REDIS_URL (starting embedded servers)")
    sub.add_parser("migrate", help="upgrade the database to the newest migration")
    sub.add_parser("seed", help="load the demo data (idempotent)")
    sub.add_parser("stop-services", help="stop the embedded PostgreSQL and Redis")
    run = sub.add_parser("run", help="run the portal, a worker and beat with the demo data")
    run.add_argument("--start-timeout", type=float, default=600)
    run.add_argument(
        "--keep-services",
        action="store_true",
        help="leave the embedded PostgreSQL and Redis running after Ctrl-C",
    )
    args = parser.parse_args(argv)
    handler = {
        "env": cmd_env,
        "migrate": cmd_migrate,
        "seed": cmd_seed,
        "stop-services": cmd_stop_services,
        "run": cmd_run,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
