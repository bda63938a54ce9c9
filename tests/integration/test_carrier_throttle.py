"""The shared token bucket against real Redis: bursts, threads and processes together, blocks, TTLs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from backend.config import PROJECT_ROOT
from backend.services.carrier_throttle import TokenBucket

pytestmark = pytest.mark.local_services


@pytest.fixture
def bucket(redis_client) -> TokenBucket:
    return TokenBucket(redis_client)


def test_a_full_bucket_allows_a_burst_of_capacity_then_the_next_waits_one_interval(bucket):
    assert [bucket.try_acquire("acct", 10, 10) for _ in range(10)] == [0.0] * 10
    wait = bucket.try_acquire("acct", 10, 10)
    # Redis's clock moved on a little during the burst, so a little less than 0.1 s is left.
    assert 0.05 < wait <= 0.1
    time.sleep(wait)
    assert bucket.try_acquire("acct", 10, 10) == 0.0


def test_the_script_does_the_same_arithmetic_as_the_pure_function(bucket):
    t = 1_000.0
    assert [bucket.try_acquire("fixed", 10, 10, now=t) for _ in range(10)] == [0.0] * 10
    assert bucket.try_acquire("fixed", 10, 10, now=t) == pytest.approx(0.1, abs=1e-6)
    assert bucket.try_acquire("fixed", 10, 10, now=t + 0.05) == pytest.approx(0.05, abs=1e-6)
    assert bucket.try_acquire("fixed", 10, 10, now=t + 0.1) == 0.0
    assert bucket.try_acquire("fixed", 10, 10, now=t + 0.1) == pytest.approx(0.1, abs=1e-6)
    # A long idle spell refills only up to capacity.
    assert [bucket.try_acquire("fixed", 10, 10, now=t + 60) for _ in range(10)] == [0.0] * 10
    assert bucket.try_acquire("fixed", 10, 10, now=t + 60) > 0


def test_a_refused_attempt_takes_nothing(bucket):
    assert bucket.try_acquire("lazy", 10, 1, now=50.0) == 0.0
    for _ in range(20):
        assert bucket.try_acquire("lazy", 10, 1, now=50.05) == pytest.approx(0.05, abs=1e-6)
    assert bucket.try_acquire("lazy", 10, 1, now=50.1) == 0.0


def test_threads_hammering_acquire_never_take_more_than_the_limit(bucket):
    rate, capacity, run_for = 10, 10, 3.0
    taken = []
    lock = threading.Lock()

    def hammer(deadline: float) -> None:
        while time.monotonic() < deadline:
            if bucket.acquire("busy", rate, capacity, max_wait=0.5):
                with lock:
                    taken.append(1)

    # Wall-clock time, like Redis's TIME, measures the span the bucket itself saw.
    start, deadline = time.time(), time.monotonic() + run_for
    threads = [threading.Thread(target=hammer, args=(deadline,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    allowed = capacity + rate * (time.time() - start)
    assert len(taken) <= allowed
    assert len(taken) >= 0.85 * allowed  # and the limit is actually used, not left idle


_WORKER = """
import json, sys, time
import redis
from backend.services.carrier_throttle import TokenBucket

url, key, rate, capacity, start_at, run_for = sys.argv[1:]
bucket = TokenBucket(redis.Redis.from_url(url))
time.sleep(max(0.0, float(start_at) - time.time()))
started, taken = time.time(), 0
while time.time() < float(start_at) + float(run_for):
    if bucket.acquire(key, float(rate), float(capacity), max_wait=0.5):
        taken += 1
print(json.dumps({"taken": taken, "started": started, "ended": time.time()}))
"""


def test_two_processes_sharing_an_account_stay_within_its_limit_together(redis_client, test_urls):
    rate, capacity, run_for = 20, 5, 2.0
    start_at = time.time() + 1.0  # both interpreters are up and importing by then
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    args = [test_urls["redis_url"], "shared", str(rate), str(capacity), str(start_at), str(run_for)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    total = sum(report["taken"] for report in reports)
    elapsed = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    allowed = capacity + rate * elapsed
    assert total <= allowed
    assert total >= 0.85 * allowed
    assert all(report["taken"] > 0 for report in reports)  # both really competed


def test_a_block_makes_try_acquire_report_it_and_acquire_wait_it_out(bucket):
    assert bucket.try_acquire("limited", 10, 10) == 0.0
    assert bucket.block("limited", 0.4) == pytest.approx(0.4)
    wait = bucket.try_acquire("limited", 10, 10)
    assert 0.3 < wait <= 0.4  # the block, though the bucket still holds tokens
    assert bucket.acquire("limited", 10, 10, max_wait=0.05) is False  # fails fast, no sleeping
    started = time.monotonic()
    assert bucket.acquire("limited", 10, 10, max_wait=2.0) is True
    assert 0.25 < time.monotonic() - started < 1.0
    assert bucket.blocked_for("limited") == 0.0


def test_a_later_block_wins_over_an_earlier_shorter_one(bucket):
    bucket.block("storm", 5)
    assert bucket.block("storm", 1) == pytest.approx(5, abs=0.1)
    assert 4.5 < bucket.try_acquire("storm", 10, 10) <= 5
    assert bucket.block("storm", 10) == pytest.approx(10)
    assert 9.5 < bucket.blocked_for("storm") <= 10
    assert bucket.block("storm", 0) == pytest.approx(10, abs=0.5)  # zero changes nothing


def test_accounts_do_not_share_tokens_or_blocks(bucket):
    assert [bucket.try_acquire("a", 1, 3) for _ in range(3)] == [0.0] * 3
    assert bucket.try_acquire("a", 1, 3) > 0
    assert bucket.try_acquire("b", 1, 3) == 0.0
    bucket.block("a", 5)
    assert bucket.try_acquire("b", 1, 3) == 0.0
    assert bucket.blocked_for("b") == 0.0


def test_idle_buckets_and_blocks_expire(bucket, redis_client):
    bucket.try_acquire("idle", 10, 20)
    bucket.block("idle", 3)
    keys = redis_client.keys("wb:bucket:*")
    assert len(keys) == 2
    ttls = {key.decode().rsplit(":", 1)[1]: redis_client.pttl(key) for key in keys}
    # Full again after capacity / rate = 2 s; kept a second longer, then it is as good as absent.
    assert 2_000 < ttls["tokens"] <= 3_000
    assert 2_000 < ttls["blocked"] <= 3_000


def test_the_script_is_sent_again_when_redis_has_forgotten_it(bucket, redis_client):
    assert bucket.try_acquire("flushed", 10, 10) == 0.0
    redis_client.script_flush()
    assert bucket.try_acquire("flushed", 10, 10) == 0.0
    bucket.block("flushed", 1)
    redis_client.script_flush()
    assert bucket.block("flushed", 2) == pytest.approx(2)


def test_nonsense_limits_are_refused(bucket):
    with pytest.raises(ValueError):
        bucket.try_acquire("x", 0, 10)
    with pytest.raises(ValueError):
        bucket.try_acquire("x", 10, 0.5)
