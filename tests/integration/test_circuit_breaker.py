"""The per-account circuit breaker against real Redis: trip, refuse, one half-open trial, close or re-open."""

from __future__ import annotations

import threading
import time

import pytest

from backend.services.circuit_breaker import CircuitBreaker

pytestmark = pytest.mark.local_services

OPEN_SECONDS = 0.2


@pytest.fixture
def breaker(redis_client) -> CircuitBreaker:
    return CircuitBreaker(redis_client, failure_threshold=3, open_seconds=OPEN_SECONDS)


def _trip(breaker: CircuitBreaker, key: str) -> None:
    for _ in range(3):
        breaker.record_failure(key)


def _half_open(breaker: CircuitBreaker, key: str) -> None:
    _trip(breaker, key)
    time.sleep(OPEN_SECONDS + 0.05)
    assert breaker.state(key) == "half_open"


def test_a_new_account_is_closed_and_allows_calls(breaker):
    assert breaker.state("new") == "closed"
    assert all(breaker.allow("new") for _ in range(10))


def test_it_opens_after_the_threshold_of_consecutive_failures_and_refuses_calls(breaker):
    assert breaker.record_failure("acct") is False
    assert breaker.record_failure("acct") is False
    assert breaker.state("acct") == "closed"
    assert breaker.allow("acct")
    assert breaker.record_failure("acct") is True
    assert breaker.state("acct") == "open"
    assert not any(breaker.allow("acct") for _ in range(10))


def test_a_success_while_closed_resets_the_count(breaker):
    breaker.record_failure("acct")
    breaker.record_failure("acct")
    breaker.record_success("acct")
    assert breaker.failures("acct") == 0
    breaker.record_failure("acct")
    breaker.record_failure("acct")
    assert breaker.state("acct") == "closed"


def test_a_straggler_while_open_neither_closes_nor_extends_it(breaker):
    _trip(breaker, "acct")
    breaker.record_success("acct")  # a call that started before the trip
    assert breaker.state("acct") == "open"
    time.sleep(OPEN_SECONDS / 2)
    breaker.record_failure("acct")
    time.sleep(OPEN_SECONDS / 2 + 0.05)
    assert breaker.state("acct") == "half_open"


def test_half_open_allows_exactly_one_trial_across_concurrent_callers(breaker):
    _half_open(breaker, "acct")
    start = threading.Barrier(12)
    answers: list[bool] = []
    lock = threading.Lock()

    def caller() -> None:
        start.wait()
        allowed = breaker.allow("acct")
        with lock:
            answers.append(allowed)

    threads = [threading.Thread(target=caller) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 11 + [True]
    assert breaker.allow("acct") is False  # still one trial while it is out
    assert breaker.state("acct") == "half_open"


def test_a_successful_trial_closes_it(breaker):
    _half_open(breaker, "acct")
    assert breaker.allow("acct")
    breaker.record_success("acct")
    assert breaker.state("acct") == "closed"
    assert all(breaker.allow("acct") for _ in range(5))
    breaker.record_failure("acct")
    breaker.record_failure("acct")
    assert breaker.state("acct") == "closed"  # the count started again from zero


def test_a_failed_trial_reopens_it_for_another_pause(breaker):
    _half_open(breaker, "acct")
    assert breaker.allow("acct")
    assert breaker.record_failure("acct") is True  # one failure is enough when half-open
    assert breaker.state("acct") == "open"
    assert breaker.allow("acct") is False
    time.sleep(OPEN_SECONDS + 0.05)
    assert breaker.state("acct") == "half_open"
    assert breaker.allow("acct") is True  # a fresh trial
    assert breaker.allow("acct") is False


def test_a_trial_whose_worker_died_is_given_to_someone_else_after_its_lease(redis_client):
    breaker = CircuitBreaker(
        redis_client, failure_threshold=1, open_seconds=0.05, trial_lease_seconds=0.15
    )
    breaker.record_failure("acct")
    time.sleep(0.1)
    assert breaker.allow("acct") is True  # and this caller never reports back
    assert breaker.allow("acct") is False
    time.sleep(0.2)
    assert breaker.allow("acct") is True


def test_a_trial_given_back_unused_goes_to_the_next_caller(breaker):
    _half_open(breaker, "acct")
    assert breaker.allow("acct") is True
    breaker.release_trial("acct")  # e.g. no token came in time, so the carrier was never asked
    assert breaker.state("acct") == "half_open"
    assert breaker.allow("acct") is True
    assert breaker.allow("acct") is False


def test_accounts_have_separate_breakers(breaker):
    _trip(breaker, "down")
    assert breaker.state("down") == "open"
    assert breaker.state("up") == "closed"
    assert breaker.allow("up")


def test_every_key_expires(breaker, redis_client):
    breaker.record_failure("a")
    _trip(breaker, "b")
    keys = redis_client.keys("wb:breaker:*")
    assert keys
    assert all(redis_client.pttl(key) > 0 for key in keys)


def test_the_threshold_must_be_positive(redis_client):
    with pytest.raises(ValueError):
        CircuitBreaker(redis_client, failure_threshold=0)
