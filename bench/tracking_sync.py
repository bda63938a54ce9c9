"""Benchmark of the tracking sync against a sandbox carrier limited to 10 requests/s per key.

    .venv/bin/python -m bench.tracking_sync            # about 5 minutes

In one run:
1. starts the sandbox carriers (`python -m backend.sandbox`, journeys that never take a
   second step, so every parcel stays pending and keeps coming due) on a free port, and a
   fresh database `waybill_bench_sync` migrated with the product's migrations;
2. the bare baseline: an asyncio + httpx poller in this process, with an in-process token
   bucket at the limit (no burst) and a few concurrent pollers, asks Harbour Post about the
   same kind of 40-number batches as fast as the bucket lets it, and does nothing with the
   answers;
3. the product: two Celery workers started as `make run` starts its worker
   (`backend.cli.worker_command`, prefork, two processes each) and one Celery beat, against
   the bench database and Redis, with TRACKING_POLL_UNIT_SECONDS small so that polled parcels
   come due again within seconds. For each workload (`--mixes`: the share of numbers the
   carrier does not know), a Harbour Post account with its own key at 10 requests/s and
   `--shipments` due parcels; the sync runs by itself (beat dispatches every 5 s);
4. reads the sandbox's own request log (`/_sandbox/stats/harbour-post`) for each key over the
   measured window (after `--warmup` seconds): requests/s, 429s, the busiest 1-second window;
   and the CPU time that the workers, PostgreSQL and the bare poller used per request;
5. prints the table, the product/bare ratio, whether the issue's target is met (at least 95 %
   of the limit used, zero 429s), writes .data/bench/tracking_sync_results.json, and stops
   what it started.

Servers: as the other benchmarks (bench/common.py): DATABASE_URL and REDIS_URL when set,
otherwise embedded PostgreSQL and Redis of the bench's own under .data/bench. Redis database
12 is flushed at the start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import redis

from backend.config import PROJECT_ROOT
from backend.domain import tracking_number
from bench import common
from bench.tracking_api import PYTHON, Server, postmaster_pid, spawn, tree_cpu_seconds

LIMIT = 10.0  # Harbour Post: 10 requests/s per key (docs/carriers.md)
BATCH = 40  # Harbour Post takes 40 numbers a call; the sync fills its batches to that
TARGET_SHARE = 0.95
DATABASE = "waybill_bench_sync"
REDIS_DB = 12
RESULTS_FILE = common.BENCH_DATA_DIR / "tracking_sync_results.json"
BARE_KEY = "hp-bench-bare-poller"


def product_key(mix: float) -> str:
    return f"hp-bench-product-{round(mix * 100):03d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, server: Server | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and not server.alive():
            raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(
        f"timed out waiting for {what}" + (f":\n{server.log_tail()}" if server else "")
    )


# ---------------------------------------------------------------- the sandbox and its log


def start_sandbox(mixes: list[float]) -> Server:
    port = free_port()
    keys = {BARE_KEY: {"carrier": "harbour-post"}}
    keys |= {product_key(mix): {"carrier": "harbour-post"} for mix in mixes}
    env = dict(
        os.environ,
        SANDBOX_STEP_SECONDS="86400",  # every parcel keeps its first event all along: still due
        SANDBOX_EXTRA_KEYS=json.dumps(keys),
    )
    command = [str(PYTHON), "-m", "backend.sandbox", "--port", str(port), "--log-level", "warning"]
    sandbox = spawn("sandbox", command, env, f"http://127.0.0.1:{port}", stop_signal=signal.SIGTERM)

    def healthy() -> bool:
        try:
            return httpx.get(f"{sandbox.base_url}/_sandbox/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, 30, "the sandbox", sandbox)
    return sandbox


def requests_of(sandbox: Server, api_key: str, since: float | None = None) -> list[dict]:
    from backend.sandbox.carriers.stats import key_id

    params = {"since": repr(since)} if since is not None else {}
    answer = httpx.get(f"{sandbox.base_url}/_sandbox/stats/harbour-post", params=params, timeout=30)
    answer.raise_for_status()
    return [r for r in answer.json()["requests"] if r["key_id"] == key_id(api_key)]


def busiest_second(times: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def window_figures(log: list[dict], start: float, end: float) -> dict:
    """What the carrier saw from one key in [start, end), and 429s over the whole run."""
    inside = [r for r in log if start <= r["at"] < end]
    times = sorted(r["at"] for r in inside)
    seconds = end - start
    return {
        "seconds": round(seconds, 1),
        "requests": len(inside),
        "requests_per_second": len(inside) / seconds,
        "share_of_limit": len(inside) / seconds / LIMIT,
        "statuses": dict(Counter(r["status"] for r in inside)),
        "rate_limited_whole_run": sum(1 for r in log if r["status"] == 429),
        "busiest_1s_window": busiest_second(times),
    }


# ---------------------------------------------------------------- the bare baseline


class SmoothBucket:
    """In-process token bucket at `rate`, no burst: one token every 1/rate seconds."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


async def bare_poll(base_url: str, numbers: list[str], seconds: float, pollers: int) -> Counter:
    bucket = SmoothBucket(LIMIT)
    batches = [numbers[i : i + BATCH] for i in range(0, len(numbers), BATCH)]
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    headers = {"X-Api-Key": BARE_KEY}
    async with httpx.AsyncClient(base_url=base_url, timeout=10, trust_env=False) as http:

        async def poller(offset: int) -> None:
            n = offset
            while time.monotonic() < deadline:
                await bucket.take()
                answer = await http.post(
                    "/harbour-post/v1/track",
                    json={"numbers": batches[n % len(batches)]},
                    headers=headers,
                )
                answer.json()
                statuses[answer.status_code] += 1
                n += pollers

        await asyncio.gather(*(poller(i) for i in range(pollers)))
    return statuses


def run_bare(args: argparse.Namespace, sandbox: Server) -> dict:
    numbers = [tracking_number.make("BB", serial) for serial in range(1, args.shipments + 1)]
    print(
        f"bare poller: {args.bare_pollers} pollers, one in-process bucket at {LIMIT:g}/s…",
        flush=True,
    )
    began, cpu_began = time.time(), time.process_time()
    statuses = asyncio.run(
        bare_poll(sandbox.base_url, numbers, args.warmup + args.duration, args.bare_pollers)
    )
    cpu = time.process_time() - cpu_began  # this process did nothing else meanwhile
    start = began + args.warmup
    figures = window_figures(requests_of(sandbox, BARE_KEY), start, start + args.duration)
    figures["cpu_ms_per_request"] = {"poller": 1000 * cpu / max(1, sum(statuses.values()))}
    return figures


# ---------------------------------------------------------------- the product


def point_this_process_at(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DATA_DIR=str(common.BENCH_DATA_DIR / "app"),  # its own master key for the secrets
    )
    from backend import cache, db
    from backend.config import get_settings
    from backend.jobs.celery_app import configure

    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()
    configure(redis_url)


def seed(args: argparse.Namespace, sandbox: Server, mix: float, serial_base: int) -> UUID:
    """A tenant's Harbour Post account at the sandbox and its due parcels, as the demo seeds them."""
    from sqlalchemy import insert
    from sqlmodel import select

    from backend.db import session_scope
    from backend.models import Carrier, CarrierAccount, Shipment, Tenant
    from backend.models.base import utcnow
    from backend.services.secrets import put_secret
    from backend.services.tracking_sync import secret_scope

    now = utcnow()
    # Known and unknown numbers spread evenly, so every batch of 40 holds the same mix. Serials
    # from 99000000 up are numbers Harbour Post does not know ("not found").
    numbers = [
        tracking_number.make(
            "BS", serial_base + i + (99_000_000 if int((i + 1) * mix) > int(i * mix) else 0)
        )
        for i in range(args.shipments)
    ]
    with session_scope() as db:
        tenant = Tenant(
            slug=f"bench-sync-{serial_base}", name="Bench Sync", tagline="", tracking_prefix="BS"
        )
        db.add(tenant)
        carrier = db.exec(select(Carrier).where(Carrier.slug == "harbour-post")).first()
        if carrier is None:
            carrier = Carrier(slug="harbour-post", name="Harbour Post", api_style="rest_json")
            db.add(carrier)
        db.flush()
        account = CarrierAccount(
            tenant_id=tenant.id,
            carrier_id=carrier.id,
            name="main",
            base_url=f"{sandbox.base_url}/harbour-post",
            rate_limit_per_second=LIMIT,
        )
        db.add(account)
        db.flush()
        put_secret(tenant.id, secret_scope(account.id), "api_key", product_key(mix), db)
        rows = [
            {
                "id": uuid4(),
                "tenant_id": tenant.id,
                "tracking_number": number,
                "carrier_account_id": account.id,
                "status": "pending",
                "next_poll_at": now - timedelta(seconds=1),
                "sender_name": "Sender",
                "sender_phone": "+85223456789",
                "sender_address": "12/F, 88 Container Port Road",
                "sender_city": "Kwai Chung",
                "recipient_name": "Recipient",
                "recipient_phone": "+85298765432",
                "recipient_address": "Flat B, 5/F, 23 Nathan Road",
                "recipient_city": "Mong Kok",
                "raw_payload": {},
                "created_at": now,
                "updated_at": now,
            }
            for number in numbers
        ]
        for start in range(0, len(rows), 1000):
            db.execute(insert(Shipment), rows[start : start + 1000])
        return account.id


def pause(account_id: UUID) -> None:
    from backend.db import session_scope
    from backend.jobs.celery_app import celery_app
    from backend.models import CarrierAccount

    with session_scope() as db:
        account = db.get(CarrierAccount, account_id)
        account.is_active = False
        db.add(account)
    celery_app.control.purge()


def start_workers(args: argparse.Namespace, env: dict[str, str]) -> list[Server]:
    from backend.cli import beat_command, worker_command
    from backend.jobs.celery_app import celery_app

    cwd = args.product_dir
    workers = [
        spawn(f"sync-worker{i}", worker_command(f"bench{i}", args.concurrency), env, "", cwd=cwd)
        for i in range(1, args.workers + 1)
    ]
    names = {f"bench{i}@{socket.gethostname()}" for i in range(1, args.workers + 1)}

    def all_answer() -> bool:
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
        replies = celery_app.control.ping(timeout=1.0) or []
        return names <= {name for reply in replies for name in reply}

    wait_for(all_answer, 120, "the Celery workers")
    return [*workers, spawn("sync-beat", beat_command(), env, "", cwd=cwd)]


def run_product(
    args, sandbox: Server, processes: list[Server], mix: float, serial_base: int
) -> dict:
    key = product_key(mix)
    print(
        f"product, {mix:.0%} of the numbers unknown to the carrier: seeding {args.shipments} parcels…",
        flush=True,
    )
    account_id = seed(args, sandbox, mix, serial_base)
    first = wait_for(lambda: requests_of(sandbox, key), 60, "the workers' first poll")[0]["at"]
    start = first + args.warmup
    time.sleep(max(0.0, start - time.time()))
    postgres = postmaster_pid()
    cpu_began = sum(tree_cpu_seconds(p.process.pid) for p in processes)
    db_began = tree_cpu_seconds(postgres) if postgres else 0.0
    time.sleep(args.duration)
    cpu = sum(tree_cpu_seconds(p.process.pid) for p in processes) - cpu_began
    db_cpu = (tree_cpu_seconds(postgres) - db_began) if postgres else None
    time.sleep(1)  # the last requests of the window reach the log
    pause(account_id)
    figures = window_figures(requests_of(sandbox, key), start, start + args.duration)
    figures["mix_unknown"] = mix
    per = max(1, figures["requests"])
    figures["cpu_ms_per_request"] = {
        "workers_and_beat": 1000 * cpu / per,
        "postgres": 1000 * db_cpu / per if db_cpu is not None else None,
    }
    print(
        f"  {figures['requests_per_second']:.2f} requests/s, 429s: {figures['rate_limited_whole_run']}",
        flush=True,
    )
    figures["dispatches_dropped"] = sum(
        p.log_tail(10**7).count("Discarding revoked task: waybill.tracking.dispatch")
        for p in processes
    )
    return figures


# ---------------------------------------------------------------- report


def report(bare: dict, products: list[dict]) -> dict:
    print()
    print(f"Harbour Post sandbox, limit {LIMIT:g} requests/s per key, {BATCH} numbers a request")
    header = "| run | req/s per key | of the limit | 429s | busiest 1 s | CPU ms/request (poller or workers + beat) | PostgreSQL ms/request |"
    print(header)
    print("|" + " --- |" * 7)

    def row(name: str, f: dict) -> None:
        cpu = f["cpu_ms_per_request"]
        mine = cpu.get("poller", cpu.get("workers_and_beat"))
        db = cpu.get("postgres")
        print(
            f"| {name} | {f['requests_per_second']:.2f} | {f['share_of_limit']:.1%} |"
            f" {f['rate_limited_whole_run']} | {f['busiest_1s_window']} | {mine:.1f} |"
            f" {'' if db is None else f'{db:.1f}'} |"
        )

    row("bare asyncio + httpx poller", bare)
    verdicts = []
    for f in products:
        row(f"product, {f['mix_unknown']:.0%} unknown numbers", f)
        f["ratio_to_bare"] = f["requests_per_second"] / bare["requests_per_second"]
        f["target_met"] = f["share_of_limit"] >= TARGET_SHARE and f["rate_limited_whole_run"] == 0
        verdicts.append(f)
    print()
    for f in verdicts:
        print(
            f"product ({f['mix_unknown']:.0%} unknown) / bare: {f['ratio_to_bare']:.2f};"
            f" target (>= {TARGET_SHARE:.0%} of the limit, zero 429s)"
            f" {'met' if f['target_met'] else 'NOT met'};"
            f" dispatches dropped in the queue: {f['dispatches_dropped']}"
        )
    return {"bare": bare, "product": products}


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tracking_sync",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=60, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=10, help="seconds before measuring")
    parser.add_argument("--shipments", type=int, default=4000, help="due parcels per run")
    parser.add_argument(
        "--mixes",
        default="0,0.75",
        help="product runs: share of numbers the carrier does not know (cheap to apply)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery workers")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--bare-pollers", type=int, default=4, help="concurrent bare pollers")
    parser.add_argument(
        "--poll-unit", type=float, default=0.02, help="TRACKING_POLL_UNIT_SECONDS of the workers"
    )
    parser.add_argument(
        "--dispatch-limit", type=int, default=None, help="TRACKING_DISPATCH_LIMIT (product default)"
    )
    parser.add_argument(
        "--product-dir",
        type=Path,
        default=PROJECT_ROOT,
        help="run the workers from this checkout instead (e.g. `git archive` of another commit,"
        " with .venv linked to this one's); the data, the sandbox and the baseline stay ours",
    )
    parser.add_argument(
        "--keep-services", action="store_true", help="leave the embedded PostgreSQL/Redis running"
    )
    args = parser.parse_args(argv)
    args.mixes = [float(m) for m in args.mixes.split(",") if m.strip()]
    if not 0 < args.shipments <= 100_000 or not all(0 <= m <= 1 for m in args.mixes):
        parser.error("--shipments is 1 to 100000 and each mix between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = common.servers()
    started: list[Server] = []
    figures: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        database_url = common.recreate_database(found, DATABASE)
        redis_url = found.redis_url(REDIS_DB)
        redis.Redis.from_url(redis_url).flushdb()
        point_this_process_at(database_url, redis_url)
        from backend.services.schema import upgrade_to_head

        upgrade_to_head()
        sandbox = start_sandbox(args.mixes)
        started.append(sandbox)
        bare = run_bare(args, sandbox)

        env = dict(
            os.environ,
            TRACKING_POLL_UNIT_SECONDS=str(args.poll_unit),
            PUBLIC_URL="http://127.0.0.1:9",  # no pushes in this benchmark
        )
        if args.product_dir != PROJECT_ROOT:
            env["PYTHONPATH"] = str(args.product_dir)  # its code first, in every worker
        if args.dispatch_limit:
            env["TRACKING_DISPATCH_LIMIT"] = str(args.dispatch_limit)
        print(
            f"starting {args.workers} Celery workers ({args.concurrency} processes each) and beat…",
            flush=True,
        )
        processes = start_workers(args, env)
        started += processes
        products = [
            run_product(args, sandbox, processes, mix, 1 + i * 100_000)
            for i, mix in enumerate(args.mixes)
        ]
        figures |= report(bare, products)
    finally:
        for server in reversed(started):
            server.stop(grace=20)
        if not args.keep_services:
            common.stop_servers(found)
    figures["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    figures["machine"] = {"cores": os.cpu_count()}
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(figures, indent=2))
    print(f"\nfigures written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
