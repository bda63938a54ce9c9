"""Per-second carrier metrics against real Redis: counts, requests per second, peak, the window."""

from __future__ import annotations

import pytest

from backend.services.carrier_metrics import RETENTION_SECONDS, CarrierMetrics

pytestmark = pytest.mark.local_services

T = 1_700_000_000  # a fixed epoch second, so the pattern does not depend on the clock


@pytest.fixture
def metrics(redis_client) -> CarrierMetrics:
    m = CarrierMetrics(redis_client)
    pattern = {
        T: ["ok"] * 3 + ["rate_limited"],
        T + 1: ["ok"] * 5 + ["timeout"],
        T + 2: ["error"] * 2,
    }
    for second, outcomes in pattern.items():
        for i, outcome in enumerate(outcomes):
            m.record("acct", outcome, now=second + i / 10)
    return m


def test_the_summary_counts_each_outcome_and_the_rate_and_peak(metrics):
    summary = metrics.summary("acct", window_seconds=10, now=T + 2.5)
    assert summary["counts"] == {"ok": 8, "rate_limited": 1, "error": 2, "timeout": 1}
    assert summary["requests"] == 12
    assert summary["requests_per_second"] == pytest.approx(1.2)
    assert summary["peak"] == 6
    assert summary["window_seconds"] == 10


def test_seconds_older_than_the_window_fall_out(metrics):
    two = metrics.summary("acct", window_seconds=2, now=T + 2.9)
    assert two["counts"] == {"ok": 5, "rate_limited": 0, "error": 2, "timeout": 1}
    assert two["requests_per_second"] == pytest.approx(4.0)
    assert two["peak"] == 6
    one = metrics.summary("acct", window_seconds=1, now=T + 2)
    assert one["requests"] == 2 and one["peak"] == 2
    later = metrics.summary("acct", window_seconds=60, now=T + 61)
    assert later["counts"] == {"ok": 0, "rate_limited": 0, "error": 2, "timeout": 0}
    gone = metrics.summary("acct", window_seconds=60, now=T + 100)
    assert gone["requests"] == 0 and gone["peak"] == 0 and gone["requests_per_second"] == 0


def test_accounts_are_counted_apart(metrics):
    assert metrics.summary("other", window_seconds=10, now=T + 2)["requests"] == 0


def test_counters_expire_after_the_retention(metrics, redis_client):
    keys = redis_client.keys("wb:cmetrics:*")
    assert len(keys) == 3
    assert all(0 < redis_client.ttl(key) <= RETENTION_SECONDS for key in keys)


def test_recording_now_shows_up_in_the_current_window(redis_client):
    metrics = CarrierMetrics(redis_client)
    for _ in range(4):
        metrics.record("live", "ok")
    metrics.record("live", "rate_limited")
    summary = metrics.summary("live")
    assert summary["counts"]["ok"] == 4
    assert summary["counts"]["rate_limited"] == 1
    assert summary["requests_per_second"] == pytest.approx(5 / 60)


def test_unknown_outcomes_and_windows_are_refused(redis_client):
    metrics = CarrierMetrics(redis_client)
    with pytest.raises(ValueError):
        metrics.record("acct", "teapot")
    with pytest.raises(ValueError):
        metrics.summary("acct", window_seconds=0)
    with pytest.raises(ValueError):
        metrics.summary("acct", window_seconds=RETENTION_SECONDS + 1)
