"""Benchmark of the public tracking API and page, against a bare Starlette + psycopg baseline.

    .venv/bin/python -m bench.load_tracking_data          # once: 1M shipments, ~10M events
    .venv/bin/python -m bench.tracking_api                # or: make bench

In one run, on the database that bench.load_tracking_data filled:
1. starts the product as a user does (`python -m backend.cli run`: Reflex in prod
   mode on one port, a Celery worker and beat) with the rate limits raised out of
   the way, and the bare baseline (bench/bare_tracking_app.py under granian, as many
   worker processes as Reflex gives its backend), and waits for both /healthz;
2. warms the database and both servers, then drives `GET /api/v1/tracking/{number}`
   over random existing numbers with an open-loop generator at fixed rates (latency
   counted from when each request was due), then closed-loop for the maximum
   throughput, product and bare side by side at each step;
3. times `/track/{number}` in headless Chromium, from navigation to the result being
   visible, cold (new browser context) and warm (same context, next number), and sums
   the JavaScript transferred;
4. prints the table and the ratios, says whether the issue's targets are met, writes
   the figures to .data/bench/tracking_api_results.json, and stops what it started.

Nothing is tuned to pass: the figures are what this machine measured, with the load
generator and both servers sharing its cores (the load generator's own cost is in
every figure, the same for both sides).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import redis

from backend.config import PROJECT_ROOT
from backend.domain import tracking_number
from bench import common, loadgen

PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
GRANIAN = PROJECT_ROOT / ".venv" / "bin" / "granian"
RUN_DIR = common.BENCH_DATA_DIR / "run"
RESULTS_FILE = common.BENCH_DATA_DIR / "tracking_api_results.json"
API_PATH = "/api/v1/tracking/{number}"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_P99_MS = 25.0
TARGET_P99_RATE = 200
TARGET_THROUGHPUT_SHARE = 0.5


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGINT

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 60) -> None:
        """Signal the whole process group (Ctrl-C for the product), then wait; kill if it lingers."""
        if not self.alive():
            return
        os.killpg(self.process.pid, self.stop_signal)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def spawn(
    name: str,
    command: list[str],
    env: dict[str, str],
    base_url: str,
    cwd: Path = PROJECT_ROOT,
    **kw,
) -> Server:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    log = RUN_DIR / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that it stops as a whole
        )
    return Server(name, base_url, process, log, **kw)


def start_product(args: argparse.Namespace, found: common.Servers, database_url: str) -> Server:
    """`python -m backend.cli run` as a user runs it, pointed at the bench database."""
    redis_url = found.redis_url(args.redis_db)
    redis.Redis.from_url(redis_url).flushdb()  # no state or rate-limit counters from a last run
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PORT=str(args.port),
        PUBLIC_URL=f"http://localhost:{args.port}",
        DATA_DIR=str(common.BENCH_APP_DIR),
        TRACKING_LOOKUPS_PER_MINUTE=str(10**9),
        TRACKING_MISSES_PER_10_MINUTES=str(10**9),
        # Its own build folder: a bench run must not rebuild the .web of a demo or test run.
        REFLEX_WEB_WORKDIR=str(common.BENCH_DATA_DIR / "web"),
    )
    if args.product_dir != PROJECT_ROOT:
        env["PYTHONPATH"] = str(args.product_dir)  # its code first, for every child process
    command = [str(PYTHON), "-m", "backend.cli", "run", "--keep-services"]
    return spawn("product", command, env, f"http://127.0.0.1:{args.port}", cwd=args.product_dir)


def start_bare(args: argparse.Namespace, database_url: str) -> Server:
    env = dict(os.environ, BARE_DATABASE_URL=database_url)
    command = [str(GRANIAN), "--interface", "asgi", "--host", "127.0.0.1"]
    command += ["--port", str(args.bare_port), "--workers", str(args.bare_workers)]
    command += ["--log-level", "warning", "bench.bare_tracking_app:app"]
    return spawn(
        "bare", command, env, f"http://127.0.0.1:{args.bare_port}", stop_signal=signal.SIGTERM
    )


def product_version(directory: Path) -> str:
    """The checkout's commit and whether it has uncommitted changes, as far as git can tell."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return f"{directory} (not a git checkout)"
    return f"{directory} at {commit}" + (f" with {len(changed)} changed files" if changed else "")


def wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited during start-up:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{server.name} was not healthy within {timeout:.0f}s:\n{server.log_tail()}")


# ---------------------------------------------------------------- data


def prewarm(database_url: str) -> str:
    """Read both tables and their indexes into memory, as they are on a server that has been up."""
    relations = ["shipment", "tracking_event", "tenant", "carrier", "carrier_account"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        relations += [
            row[0]
            for row in conn.execute(
                """SELECT indexrelid::regclass::text FROM pg_index
                    WHERE indrelid IN ('shipment'::regclass, 'tracking_event'::regclass)"""
            )
        ]
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error:
            for table in ("shipment", "tracking_event"):
                conn.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  (fixed names)
            return "tables read (pg_prewarm unavailable)"
        pages = sum(
            conn.execute("SELECT pg_prewarm(%s, 'read')", (name,)).fetchone()[0]
            for name in relations
        )
    return f"{pages * 8 / 1024:,.0f} MiB read with pg_prewarm"


def sample_numbers(count: int, how_many: int, seed: int) -> list[str]:
    """Random existing bench numbers (serials 0..count-1)."""
    rng = random.Random(seed)
    return [tracking_number.make(common.PREFIX, rng.randrange(count)) for _ in range(how_many)]


def _moment(value: object) -> object:
    """An ISO date-time as an aware datetime ("Z" and "+00:00" alike), anything else as it is."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def normalized(payload: dict) -> dict:
    """A tracking answer with its times parsed, so that two serializers can be compared."""
    body = {key: _moment(value) for key, value in payload.items() if key != "events"}
    body["events"] = [
        {key: _moment(value) for key, value in event.items()} for event in payload.get("events", [])
    ]
    return body


def fetch(server: Server, number: str) -> tuple[int, dict | None, str]:
    try:
        answer = httpx.get(server.base_url + API_PATH.format(number=number), timeout=30)
    except httpx.HTTPError as error:
        return 0, None, f"{type(error).__name__}: {error}"
    if "json" not in answer.headers.get("content-type", ""):
        return answer.status_code, None, f"HTTP {answer.status_code}, not JSON"
    return answer.status_code, answer.json(), f"HTTP {answer.status_code}"


def compare_answers(product: Server, bare: Server, numbers: list[str]) -> bool:
    """Whether the product answers the API at all; prints how its answers compare with bare's."""
    same = 0
    for number in numbers:
        p_status, p_body, p_said = fetch(product, number)
        b_status, b_body, b_said = fetch(bare, number)
        if b_status != 200 or b_body is None:
            raise RuntimeError(f"the bare baseline does not answer {number}: {b_said}")
        if p_status != 200 or p_body is None:
            print(f"  the product's tracking API does not answer {number}: {p_said}")
            return False
        p_norm, b_norm = normalized(p_body), normalized(b_body)
        if p_norm == b_norm:
            same += 1
            continue
        differ = sorted(k for k in set(p_norm) | set(b_norm) if p_norm.get(k) != b_norm.get(k))
        print(f"  WARNING: {number}: product and bare answers differ in {', '.join(differ)}")
    print(f"  product and bare give the same answer for {same} of {len(numbers)} sample numbers")
    return True


# ---------------------------------------------------------------- CPU accounting


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU ticks), for every process we may read.

    The ticks are the process's own user and system time plus those of its children that
    have exited and been waited for (cutime, cstime): so a short-lived database backend or
    worker still counts after it is gone, through its parent.
    """
    table = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # from "state" on
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        table[int(pid)] = (int(fields[1]), ticks)
    return table


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and all its descendants, living or reaped."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        ticks += table.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The bench's embedded PostgreSQL (None when the environment names another server)."""
    pidfile = common.BENCH_DATA_DIR / "postgres" / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def sessions_opened(database_url: str) -> int:
    """Connections ever opened to the database (pg_stat_database.sessions, PostgreSQL 14+)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class CpuMeter:
    """CPU seconds used by the server under test and by PostgreSQL during one run,
    and how many database connections were opened meanwhile (a pool that churns shows here)."""

    server: Server
    db_root: int | None  # the postmaster's pid, when PostgreSQL is ours to watch
    database_url: str
    app_seconds: float = 0.0
    db_seconds: float = 0.0
    connections: int = 0
    _start: tuple[float, float, int] = field(default=(0.0, 0.0, 0))

    def _now(self) -> tuple[float, float, int]:
        db = tree_cpu_seconds(self.db_root) if self.db_root else 0.0
        app = tree_cpu_seconds(self.server.process.pid)
        return app, db, sessions_opened(self.database_url)

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *_: object) -> None:
        app, db, sessions = self._now()
        self.app_seconds, self.db_seconds = app - self._start[0], db - self._start[1]
        self.connections = sessions - self._start[2] - 1  # less the one that asked


# ---------------------------------------------------------------- load


@dataclass
class Measured:
    result: loadgen.RunResult
    app_cpu_ms: float  # per successful request
    db_cpu_ms: float
    new_connections: int  # database connections opened during the run


async def measure(server: Server, paths: list[str], rate: float | None, args) -> Measured:
    with CpuMeter(server, args.postmaster, args.database_url) as meter:
        if rate is None:
            result = await loadgen.closed_loop(
                server.base_url, paths, args.concurrency, args.max_duration, server.name
            )
        else:
            result = await loadgen.open_loop(
                server.base_url, paths, rate, args.duration, server.name
            )
    per = max(result.ok, 1)
    app_ms, db_ms = meter.app_seconds * 1000 / per, meter.db_seconds * 1000 / per
    return Measured(result, app_ms, db_ms, meter.connections)


async def run_load(servers: list[Server], numbers: list[str], args) -> dict[str, list[Measured]]:
    """Warm-up, then each rate on each server in turn, then the closed-loop maximum."""
    paths = [API_PATH.format(number=n) for n in numbers]
    for server in servers:
        print(f"  warming up {server.name} for {args.warmup:.0f}s…", flush=True)
        await loadgen.closed_loop(server.base_url, paths[::-1], 8, args.warmup, server.name)
    runs: dict[str, list[Measured]] = {server.name: [] for server in servers}
    offset = 0
    for rate in [*args.rates, None]:
        for server in servers:
            chunk = paths[offset:] + paths[:offset]  # numbers no earlier run has asked for
            measured = await measure(server, chunk, rate, args)
            offset = (offset + measured.result.ok + sum(measured.result.errors.values())) % len(
                paths
            )
            runs[server.name].append(measured)
            r = measured.result
            what = f"{rate:.0f} req/s" if rate else f"closed loop x{args.concurrency}"
            print(
                f"  {server.name:8} {what:>18}: {r.achieved_rps:7.1f} req/s,"
                f" p50 {r.percentile(0.5):6.1f} ms, p99 {r.percentile(0.99):7.1f} ms,"
                f" errors {r.error_text()}",
                flush=True,
            )
            await asyncio.sleep(2)  # let queues drain between runs
    return runs


# ---------------------------------------------------------------- browser


@dataclass
class Visit:
    """One navigation to /track/{number}; times in ms from the call to goto()."""

    result_visible: float
    dom_content_loaded: float  # from the browser's navigation timing
    load: float
    websocket_opened: float  # Reflex's event channel
    first_event_sent: float  # the first frame the page sends on it (the on_load event)
    last_frame_before_result: float  # the last frame received before the result showed
    js_transferred: int  # bytes on the wire: bodies (as sent) and headers of script responses
    js_decoded: int  # bytes of script once decompressed
    outcome: str  # the result card's data-outcome


def visit(context, base_url: str, number: str) -> Visit:
    page = context.new_page()
    scripts, marks = [], {}
    began = time.perf_counter()

    def mark(name: str) -> None:
        marks.setdefault(name, (time.perf_counter() - began) * 1000)

    page.on("requestfinished", lambda r: scripts.append(r) if r.resource_type == "script" else None)
    received: list[float] = []

    def watch(ws) -> None:
        mark("websocket")
        ws.on("framesent", lambda _: mark("sent"))
        ws.on("framereceived", lambda _: received.append((time.perf_counter() - began) * 1000))

    page.on("websocket", watch)
    began = time.perf_counter()
    page.goto(f"{base_url}/track/{number}", wait_until="commit")
    result = page.locator('[data-testid="track-result"]').first
    result.wait_for(state="visible", timeout=30_000)
    visible = (time.perf_counter() - began) * 1000
    outcome = result.get_attribute("data-outcome") or "?"
    page.wait_for_load_state("networkidle")
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return [n.domContentLoadedEventEnd, n.loadEventEnd]; }"
    )
    sizes = [r.sizes() for r in scripts]
    decoded = sum(len(r.response().body()) for r in scripts if r.response())
    page.close()
    return Visit(
        result_visible=visible,
        dom_content_loaded=timing[0],
        load=timing[1],
        websocket_opened=marks.get("websocket", float("nan")),
        first_event_sent=marks.get("sent", float("nan")),
        last_frame_before_result=max((t for t in received if t <= visible), default=float("nan")),
        js_transferred=sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes),
        js_decoded=decoded,
        outcome=outcome,
    )


def browser_timings(base_url: str, numbers: list[str], repeats: int) -> dict | None:
    """Cold (new context) and warm (same context, next number) visits; None if no result shows."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    visits: dict[str, list[Visit]] = {"cold": [], "warm": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for i in range(repeats):
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                visits["cold"].append(visit(context, base_url, numbers[2 * i]))
                visits["warm"].append(visit(context, base_url, numbers[2 * i + 1]))
                context.close()
            browser.close()
    except PlaywrightError as error:
        first_line = error.message.splitlines()[0] if error.message else type(error).__name__
        print(f"  browser timing skipped: /track/{{number}} showed no result ({first_line})")
        return None
    return {kind: [vars(v) for v in runs] for kind, runs in visits.items()}


# ---------------------------------------------------------------- report


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


def report(runs: dict[str, list[Measured]], args) -> dict:
    """Print the side-by-side table and the verdict on the issue's targets; return the figures."""
    product, bare = runs.get("product"), runs["bare"]
    labels = [f"{rate:g}" for rate in args.rates] + [f"max (closed, x{args.concurrency})"]
    print()
    print(
        "GET /api/v1/tracking/{number}: product (Reflex app, service, ORM) vs bare (Starlette + psycopg)"
    )
    header = (
        f"{'rate req/s':>22} | {'product req/s':>13} {'p50 ms':>7} {'p99 ms':>8} {'errors':>8}"
        f" | {'bare req/s':>10} {'p50 ms':>7} {'p99 ms':>8} {'errors':>8} | {'p99 p/b':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for i, label in enumerate(labels):
        b = bare[i].result
        p = product[i].result if product else None
        ratio = p.percentile(0.99) / b.percentile(0.99) if p and b.ok and p.ok else float("nan")
        print(
            f"{label:>22} | "
            + (
                f"{p.achieved_rps:13.1f} {fmt(p.percentile(0.5)):>7} {fmt(p.percentile(0.99)):>8}"
                f" {sum(p.errors.values()):>8}"
                if p
                else f"{'(not available)':>39}"
            )
            + f" | {b.achieved_rps:10.1f} {fmt(b.percentile(0.5)):>7} {fmt(b.percentile(0.99)):>8}"
            f" {sum(b.errors.values()):>8} | {fmt(ratio, 2):>7}"
        )
        rows.append(
            {
                "rate": label,
                "product": _figures(product[i]) if product else None,
                "bare": _figures(bare[i]),
            }
        )
    print()
    print("CPU per successful request, and database connections opened, in each run:")
    for name, measured in runs.items():
        for label, m in zip(labels, measured, strict=True):
            print(
                f"  {name:8} {label:>22}: server processes {m.app_cpu_ms:5.2f} ms,"
                f" PostgreSQL {m.db_cpu_ms:5.2f} ms, {m.new_connections:5d} connections opened"
            )
    verdict = {}
    if product:
        verdict = verdict_on_targets(product, bare, args)
    return {"rows": rows, "verdict": verdict}


def _figures(measured: Measured) -> dict:
    r = measured.result
    return {
        "target_rate": r.target_rate,
        "achieved_rps": round(r.achieved_rps, 1),
        "requests_ok": r.ok,
        "p50_ms": round(r.percentile(0.5), 2),
        "p99_ms": round(r.percentile(0.99), 2),
        "max_ms": round(max(r.latencies_ms), 2) if r.latencies_ms else None,
        "errors": dict(r.errors),
        "app_cpu_ms_per_request": round(measured.app_cpu_ms, 2),
        "db_cpu_ms_per_request": round(measured.db_cpu_ms, 2),
        "db_connections_opened": measured.new_connections,
    }


def verdict_on_targets(product: list[Measured], bare: list[Measured], args) -> dict:
    product_max, bare_max = product[-1].result.achieved_rps, bare[-1].result.achieved_rps
    share = product_max / bare_max if bare_max else float("nan")
    print()
    print(
        f"max throughput: product {product_max:.1f} req/s, bare {bare_max:.1f} req/s, product/bare = {share:.2f}"
    )
    verdict = {"max_throughput_ratio": round(share, 3)}
    if TARGET_P99_RATE in args.rates:
        at = product[args.rates.index(TARGET_P99_RATE)].result
        p99, errors = at.percentile(0.99), sum(at.errors.values())
        met = p99 < TARGET_P99_MS and errors == 0
        verdict["p99_at_200_ms"] = round(p99, 2)
        print(
            f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_P99_RATE} req/s: "
            f"{'MET' if met else 'NOT MET'} (p99 {fmt(p99)} ms, {errors} errors)"
        )
        verdict["p99_target_met"] = met
    else:
        print(f"target p99 at {TARGET_P99_RATE} req/s: not measured (rate not in --rates)")
    met = share >= TARGET_THROUGHPUT_SHARE
    verdict["throughput_target_met"] = met
    print(
        f"target max throughput >= {TARGET_THROUGHPUT_SHARE:.0%} of bare: "
        f"{'MET' if met else 'NOT MET'} ({share:.0%})"
    )
    return verdict


def report_browser(timings: dict | None) -> None:
    if not timings:
        return
    runs = len(timings["cold"])
    print()
    print(f"/track/{{number}} in headless Chromium, median of {runs} runs (ms from navigation):")
    columns = [
        ("result visible", "result_visible"),
        ("DOMContentLoaded", "dom_content_loaded"),
        ("load", "load"),
        ("websocket", "websocket_opened"),
        ("1st event sent", "first_event_sent"),
        ("last frame in", "last_frame_before_result"),
    ]
    print(
        f"{'':6}" + "".join(f" {title:>16}" for title, _ in columns) + "  JS transferred (decoded)"
    )
    for kind in ("cold", "warm"):
        column = {key: [v[key] for v in timings[kind]] for key in timings[kind][0]}
        cells = "".join(f" {statistics.median(column[key]):16.0f}" for _, key in columns)
        visible = column["result_visible"]
        print(
            f"{kind:6}{cells}  {statistics.median(column['js_transferred']) / 1024:.0f} KiB"
            f" ({statistics.median(column['js_decoded']) / 1024:.0f} KiB)"
            f"   result visible min-max {min(visible):.0f}-{max(visible):.0f}"
        )
    outcomes = {v["outcome"] for kind in timings.values() for v in kind}
    print(f"  result cards shown: {', '.join(sorted(outcomes))}")


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tracking_api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--port", type=int, default=3200, help="the product's port")
    parser.add_argument("--bare-port", type=int, default=3201)
    parser.add_argument("--redis-db", type=int, default=13, help="the product's Redis database")
    parser.add_argument(
        "--product-dir",
        type=Path,
        default=PROJECT_ROOT,
        help="run the product from this checkout instead (e.g. `git archive` of another commit,"
        " with .venv linked to this one's)",
    )
    parser.add_argument(
        "--bare-workers",
        type=int,
        default=min((os.cpu_count() or 1) * 2 + 1, 8),
        help="granian workers of the baseline (default: as many as Reflex gives the product)",
    )
    parser.add_argument("--rates", default="50,100,200,400", help="open-loop rates, req/s")
    parser.add_argument("--duration", type=float, default=20, help="seconds per open-loop rate")
    parser.add_argument("--max-duration", type=float, default=20, help="seconds of closed loop")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--start-timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument(
        "--keep-services", action="store_true", help="leave the embedded PostgreSQL/Redis running"
    )
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    return args


def measure_all(args: argparse.Namespace, found: common.Servers, count: int) -> dict:
    """Start both servers, load them, time the page; stop the servers whatever happens."""
    numbers = sample_numbers(count, 200_000, args.seed)
    figures: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "shipments": count}
    figures["product"] = product_version(args.product_dir)
    print(f"product code: {figures['product']}")
    started: list[Server] = []
    try:
        print("starting the product (python -m backend.cli run) and the bare baseline…", flush=True)
        product = start_product(args, found, args.database_url)
        started.append(product)
        bare = start_bare(args, args.database_url)
        started.append(bare)
        wait_healthy(bare, 60)
        began = time.monotonic()
        wait_healthy(product, args.start_timeout)
        print(
            f"  product healthy after {time.monotonic() - began:.0f}s; bare: {args.bare_workers} workers"
        )
        available = compare_answers(product, bare, numbers[:5])
        if not available:
            print("  the product's tracking API is not available: measuring the bare baseline only")
        runs = asyncio.run(run_load([product, bare] if available else [bare], numbers, args))
        figures["api"] = report(runs, args)
        if not args.skip_browser:
            visits = numbers[-2 * args.browser_runs :]
            figures["browser"] = browser_timings(product.base_url, visits, args.browser_runs)
            report_browser(figures["browser"])
    finally:
        for server in reversed(started):
            server.stop()
    skip = ("drop", "keep_services", "database_url", "postmaster", "product_dir")
    figures["settings"] = {k: v for k, v in vars(args).items() if k not in skip}
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = common.servers()
    try:
        args.database_url = found.database_url(args.database)
        exists = common.database_exists(found, args.database)
        count = common.bench_shipment_count(args.database_url) if exists else 0
        if not count:
            print(f"{args.database} holds no bench shipments: run bench.load_tracking_data first")
            return 2
        args.postmaster = postmaster_pid() if found.embedded else None
        print(f"{args.database}: {count:,} bench shipments; {prewarm(args.database_url)}")
        figures = measure_all(args, found, count)
        if args.drop:
            common.drop_database(found, args.database)
    finally:
        if not args.keep_services:
            common.stop_servers(found)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(figures, indent=2))
    print(f"\nfigures written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
