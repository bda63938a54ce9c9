"""The fixed-window RateLimiter against real Redis: counting, cost, retry_after and the window reopening."""

from __future__ import annotations

import time

import pytest

from backend.services.rate_limit import Limit, RateLimiter

pytestmark = pytest.mark.local_services

FIVE_A_MINUTE = Limit("test-five", 5, 60)


@pytest.fixture
def limiter(redis_client) -> RateLimiter:
    return RateLimiter(redis_client)


def test_hits_within_the_limit_pass_and_the_next_one_waits_for_the_window(limiter):
    assert [limiter.hit(FIVE_A_MINUTE, "203.0.113.1") for _ in range(5)] == [0] * 5
    wait = limiter.hit(FIVE_A_MINUTE, "203.0.113.1")
    assert 0 < wait <= 60


def test_retry_after_is_zero_until_the_limit_is_used_up(limiter):
    assert limiter.retry_after(FIVE_A_MINUTE, "a") == 0
    for _ in range(4):
        limiter.hit(FIVE_A_MINUTE, "a")
    assert limiter.retry_after(FIVE_A_MINUTE, "a") == 0
    limiter.hit(FIVE_A_MINUTE, "a")  # the fifth: allowed, and now the limit is used up
    assert 0 < limiter.retry_after(FIVE_A_MINUTE, "a") <= 60


def test_retry_after_does_not_spend_anything(limiter):
    for _ in range(20):
        assert limiter.retry_after(FIVE_A_MINUTE, "b") == 0
    assert limiter.hit(FIVE_A_MINUTE, "b") == 0


def test_cost_spends_several_at_once(limiter):
    assert limiter.hit(FIVE_A_MINUTE, "c", cost=3) == 0
    assert limiter.hit(FIVE_A_MINUTE, "c", cost=2) == 0  # exactly five: still allowed
    assert limiter.hit(FIVE_A_MINUTE, "c", cost=1) > 0


def test_a_cost_that_overshoots_is_refused(limiter):
    assert limiter.hit(FIVE_A_MINUTE, "d", cost=3) == 0
    assert limiter.hit(FIVE_A_MINUTE, "d", cost=3) > 0
    assert limiter.hit(FIVE_A_MINUTE, "d", cost=1) > 0  # the window stays shut
    assert limiter.hit(FIVE_A_MINUTE, "fresh", cost=6) > 0


def test_subjects_and_limits_are_counted_apart(limiter):
    other = Limit("test-other", 5, 60)
    for _ in range(5):
        limiter.hit(FIVE_A_MINUTE, "e")
    assert limiter.hit(FIVE_A_MINUTE, "e") > 0
    assert limiter.hit(FIVE_A_MINUTE, "f") == 0
    assert limiter.hit(other, "e") == 0


def test_the_window_reopens_when_it_expires(limiter):
    one_second = Limit("test-short", 2, 1)
    limiter.hit(one_second, "g")
    limiter.hit(one_second, "g")
    assert limiter.hit(one_second, "g") == 1
    deadline = time.monotonic() + 3
    while limiter.retry_after(one_second, "g") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert limiter.retry_after(one_second, "g") == 0
    assert limiter.hit(one_second, "g") == 0


def test_refused_hits_do_not_stretch_the_window(limiter, redis_client):
    for _ in range(6):
        limiter.hit(FIVE_A_MINUTE, "h")
    (key,) = redis_client.keys("wb:rate:test-five:*")
    ttl_before = redis_client.ttl(key)
    for _ in range(10):
        limiter.hit(FIVE_A_MINUTE, "h")
    assert redis_client.ttl(key) <= ttl_before
    assert int(redis_client.get(key)) == 5  # refused hits are not even counted


def test_keys_expire_and_never_hold_the_raw_subject(limiter, redis_client):
    limiter.hit(FIVE_A_MINUTE, "198.51.100.23")
    limiter.hit(FIVE_A_MINUTE, "number:WB123456785HK")
    keys = [key.decode() for key in redis_client.keys("wb:rate:*")]
    assert len(keys) == 2
    assert not any("198.51.100.23" in key or "WB123456785HK" in key for key in keys)
    assert all(0 < redis_client.ttl(key) <= 60 for key in keys)


def test_one_round_trip_gate_then_hit_answers_as_the_two_calls_do(limiter, redis_client):
    gate, spend = Limit("gate", 2, 60), Limit("spend", 3, 60)
    twin = RateLimiter(redis_client)
    for step in range(6):
        if step == 2:  # close the gate for the second subject pair only
            limiter.hit(gate, "b", cost=2)
            twin.hit(gate, "b2", cost=2)
        for subject, twin_subject in (("a", "a2"), ("b", "b2")):
            expected = twin.retry_after(gate, twin_subject) or twin.hit(spend, twin_subject)
            got = limiter.hit_unless_closed(gate, spend, subject)
            assert (got > 0) == (expected > 0), (step, subject)
    # A closed gate spends nothing.
    assert int(redis_client.get(limiter._key(spend, "b"))) == 2


def test_one_round_trip_survives_redis_forgetting_its_scripts(limiter, redis_client):
    redis_client.script_flush()
    assert limiter.hit_unless_closed(Limit("g", 1, 60), Limit("s", 5, 60), "x") == 0
