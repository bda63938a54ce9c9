"""The token bucket's arithmetic (mirrored by its Lua script): refill over time, the cap, the wait."""

from __future__ import annotations

import pytest

from backend.services.carrier_throttle import _refill, _take


def test_tokens_refill_at_the_rate_over_elapsed_time():
    assert _refill(0.0, last=100.0, now=100.5, rate=10, capacity=10) == pytest.approx(5.0)
    assert _refill(2.5, last=100.0, now=100.1, rate=10, capacity=10) == pytest.approx(3.5)
    assert _refill(0.0, last=100.0, now=103.0, rate=0.5, capacity=10) == pytest.approx(1.5)


def test_refill_never_goes_above_capacity():
    assert _refill(0.0, last=100.0, now=200.0, rate=10, capacity=10) == 10
    assert _refill(9.5, last=100.0, now=100.2, rate=10, capacity=10) == 10
    assert _refill(4.0, last=0.0, now=10**9, rate=2, capacity=4) == 4


def test_no_time_or_a_clock_stepping_back_refills_nothing():
    assert _refill(3.0, last=100.0, now=100.0, rate=10, capacity=10) == 3.0
    assert _refill(3.0, last=100.0, now=99.0, rate=10, capacity=10) == 3.0


def test_a_whole_token_is_taken_without_waiting():
    assert _take(10.0, rate=10) == (9.0, 0.0)
    assert _take(1.0, rate=10) == (0.0, 0.0)
    left, wait = _take(1.25, rate=10)
    assert (left, wait) == (pytest.approx(0.25), 0.0)


def test_without_a_whole_token_nothing_is_taken_and_the_wait_is_the_time_to_one():
    assert _take(0.0, rate=10) == (0.0, pytest.approx(0.1))
    assert _take(0.5, rate=10) == (0.5, pytest.approx(0.05))
    assert _take(0.0, rate=2) == (0.0, pytest.approx(0.5))
    assert _take(0.75, rate=0.5) == (0.75, pytest.approx(0.5))


def test_a_burst_drains_the_bucket_and_the_next_token_comes_after_one_interval():
    tokens, now, rate, capacity = 10.0, 1000.0, 10.0, 10.0
    for _ in range(10):
        tokens, wait = _take(_refill(tokens, now, now, rate, capacity), rate)
        assert wait == 0.0
    tokens, wait = _take(tokens, rate)
    assert wait == pytest.approx(0.1)
    tokens, wait = _take(_refill(tokens, now, now + wait, rate, capacity), rate)
    assert wait == 0.0
    assert tokens == pytest.approx(0.0)


def test_over_any_span_no_more_than_capacity_plus_rate_times_span_is_taken():
    # Simulate a greedy caller that retries exactly when told: the classic bucket bound.
    tokens, last, now, rate, capacity, taken = 5.0, 0.0, 0.0, 4.0, 5.0, 0
    while now <= 10.0:
        tokens = _refill(tokens, last, now, rate, capacity)
        last = now
        tokens, wait = _take(tokens, rate)
        if wait == 0.0:
            taken += 1
        else:
            now += wait
    assert taken <= capacity + rate * 10.0
    assert taken >= capacity + rate * 10.0 - 1
