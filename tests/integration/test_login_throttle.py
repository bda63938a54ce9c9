"""Sign-in throttling in real Redis: per (account, IP) pair, per account, per IP, and through sign_in.

Pauses are shrunk to a second or two so the whole module sleeps only a few seconds.
"""

from __future__ import annotations

import time

import pytest

from backend.config import Settings
from backend.domain.statuses import SessionAudience
from backend.services import accounts, passwords, sessions
from backend.services.errors import AuthFailed
from backend.services.login_throttle import LoginThrottle
from tests.support import factories

pytestmark = pytest.mark.local_services

PORTAL = SessionAudience.PORTAL
PASSWORD = factories.DEFAULT_PASSWORD
OWNER = "owner@example.com"
ATTACKER_IP = "203.0.113.66"
OWNER_IP = "198.51.100.7"


def _settings(**overrides) -> Settings:
    fields = {
        "login_window_seconds": 60,
        "login_failures_per_pair": 5,
        "login_pair_base_pause_seconds": 2,
        "login_pair_max_pause_seconds": 16,
        "login_failures_per_account": 50,
        "login_account_pause_seconds": 1,
        "login_failures_per_ip": 30,
        "login_ip_pause_seconds": 30,
    }
    fields.update(overrides)
    return Settings(**fields)


@pytest.fixture
def throttle(redis_client) -> LoginThrottle:
    return LoginThrottle(redis_client, _settings())


@pytest.fixture
def use_settings(monkeypatch, clean_db, redis_client):
    """Make accounts.sign_in throttle with the given settings (and a clean database and Redis)."""

    def apply(**overrides) -> Settings:
        settings = _settings(**overrides)
        monkeypatch.setattr(accounts, "get_settings", lambda: settings)
        return settings

    return apply


def _attempt(email: str, password: str, ip: str) -> AuthFailed | str:
    """Sign in; the refusal, or the new session's token."""
    try:
        return accounts.sign_in(email, password, PORTAL, ip=ip).token
    except AuthFailed as refused:
        return refused


def _wait_until_free(throttle: LoginThrottle, email: str, ip: str, limit: float) -> float:
    """Sleep until the throttle lets this pair try again; return how long that took."""
    started = time.monotonic()
    while throttle.retry_after(email, ip):
        assert time.monotonic() - started < limit, "the pause lasted longer than it should"
        time.sleep(0.05)
    return time.monotonic() - started


# -- the throttle on its own ------------------------------------------------------------------


def test_a_pair_is_paused_from_its_fifth_failure_with_the_base_pause(throttle):
    assert [throttle.record_failure(OWNER, ATTACKER_IP) for _ in range(4)] == [0, 0, 0, 0]
    assert throttle.retry_after(OWNER, ATTACKER_IP) == 0

    assert throttle.record_failure(OWNER, ATTACKER_IP) == 2

    assert 0 < throttle.retry_after(OWNER, ATTACKER_IP) <= 2


def test_each_further_failure_of_a_pair_doubles_its_pause_up_to_the_cap(throttle):
    pauses = [throttle.record_failure(OWNER, ATTACKER_IP) for _ in range(10)]
    assert pauses == [0, 0, 0, 0, 2, 4, 8, 16, 16, 16]
    assert 8 < throttle.retry_after(OWNER, ATTACKER_IP) <= 16


def test_a_paused_pair_does_not_hold_up_the_same_account_from_another_ip(throttle):
    for _ in range(5):
        throttle.record_failure(OWNER, ATTACKER_IP)
    assert throttle.retry_after(OWNER, ATTACKER_IP) > 0
    assert throttle.retry_after(OWNER, OWNER_IP) == 0
    assert throttle.retry_after("someone.else@example.com", ATTACKER_IP) == 0


def test_the_account_is_the_same_whatever_the_case_of_its_email(throttle):
    for email in ["Owner@Example.com", "OWNER@EXAMPLE.COM", OWNER, "owner@EXAMPLE.com"]:
        throttle.record_failure(email, ATTACKER_IP)
    assert throttle.record_failure("oWnEr@example.com", ATTACKER_IP) == 2
    assert throttle.retry_after(OWNER, ATTACKER_IP) > 0


def test_success_forgets_the_pairs_failures_and_pause(throttle):
    for _ in range(5):
        throttle.record_failure(OWNER, ATTACKER_IP)
    assert throttle.retry_after(OWNER, ATTACKER_IP) > 0

    throttle.record_success(OWNER, ATTACKER_IP)

    assert throttle.retry_after(OWNER, ATTACKER_IP) == 0
    assert [throttle.record_failure(OWNER, ATTACKER_IP) for _ in range(5)] == [0, 0, 0, 0, 2]


def test_success_does_not_forget_the_ips_failures_across_other_accounts(redis_client):
    throttle = LoginThrottle(redis_client, _settings(login_failures_per_ip=6))
    for _ in range(4):
        throttle.record_failure(OWNER, ATTACKER_IP)
    throttle.record_success(OWNER, ATTACKER_IP)

    assert throttle.record_failure("a@example.com", ATTACKER_IP) == 0
    assert throttle.record_failure("b@example.com", ATTACKER_IP) == 30  # the sixth from this IP


def test_an_ip_failing_across_many_accounts_is_paused_longest(redis_client):
    throttle = LoginThrottle(redis_client, _settings(login_failures_per_ip=6))
    pauses = [throttle.record_failure(f"user{n}@example.com", ATTACKER_IP) for n in range(6)]

    assert pauses == [0, 0, 0, 0, 0, 30]
    assert 2 < throttle.retry_after("fresh.account@example.com", ATTACKER_IP) <= 30
    assert throttle.retry_after("user0@example.com", OWNER_IP) == 0


def test_an_account_failing_from_many_ips_is_paused_briefly_for_those_ips_only(redis_client):
    throttle = LoginThrottle(
        redis_client, _settings(login_failures_per_account=6, login_account_pause_seconds=5)
    )
    pauses = [throttle.record_failure(OWNER, f"203.0.113.{n}") for n in range(6)]

    assert pauses == [0, 0, 0, 0, 0, 5]  # shorter than the pair's pause cap and the IP's pause
    assert 0 < throttle.retry_after(OWNER, "203.0.113.0") <= 5
    assert throttle.retry_after(OWNER, OWNER_IP) == 0  # a connection that never failed


def test_the_throttle_keeps_no_plain_email_or_ip_and_every_key_expires(throttle, redis_client):
    for _ in range(6):
        throttle.record_failure(OWNER, ATTACKER_IP)

    keys = [key.decode() for key in redis_client.keys("*")]
    assert len(keys) == 4  # counters for the pair, the account and the IP; the pair's pause
    assert sum(key.endswith(":paused") for key in keys) == 1
    for key in keys:
        assert "owner" not in key and "example" not in key and ATTACKER_IP not in key
        assert 0 < redis_client.ttl(key) <= 60


# -- through sign_in --------------------------------------------------------------------------


def test_twenty_wrong_passwords_from_one_ip_are_throttled_from_the_fifth_and_stop_being_checked(
    use_settings, monkeypatch
):
    use_settings()
    factories.make_user(email=OWNER)
    checked: list[str] = []
    real_verify = passwords.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)

    answers = [_attempt(OWNER, f"guess-number-{n}", ATTACKER_IP) for n in range(20)]

    codes = [answer.code for answer in answers if isinstance(answer, AuthFailed)]
    assert codes == ["invalid_credentials"] * 4 + ["throttled"] * 16
    assert all(answer.retry_after > 0 for answer in answers[4:] if isinstance(answer, AuthFailed))
    assert len(checked) == 5  # the password is not even looked at while the pair is paused

    # The right password from the paused IP is refused just the same, unchecked.
    right = _attempt(OWNER, PASSWORD, ATTACKER_IP)
    assert isinstance(right, AuthFailed)
    assert right.code == "throttled"
    assert right.retry_after > 0
    assert len(checked) == 5


def test_the_owner_gets_in_from_another_ip_at_once_and_from_the_attacked_ip_after_the_pause(
    use_settings, redis_client
):
    settings = use_settings()
    factories.make_user(email=OWNER)
    for n in range(20):
        _attempt(OWNER, f"guess-number-{n}", ATTACKER_IP)
    assert _attempt(OWNER, PASSWORD, ATTACKER_IP).code == "throttled"

    from_home = _attempt(OWNER, PASSWORD, OWNER_IP)
    assert isinstance(from_home, str)
    assert sessions.resolve_session(from_home, PORTAL) is not None

    throttle = LoginThrottle(redis_client, settings)
    waited = _wait_until_free(throttle, OWNER, ATTACKER_IP, limit=5)
    assert waited <= 4.5

    from_attacked_ip = _attempt(OWNER, PASSWORD, ATTACKER_IP)
    assert isinstance(from_attacked_ip, str)
    assert sessions.resolve_session(from_attacked_ip, PORTAL) is not None


def test_a_stranger_hammering_an_account_from_many_ips_never_keeps_the_owner_out(
    use_settings, redis_client
):
    settings = use_settings(login_failures_per_account=6, login_account_pause_seconds=2)
    factories.make_user(email=OWNER)
    answers = [_attempt(OWNER, "a-wrong-guess", f"203.0.113.{n}") for n in range(6)]
    assert [a.code for a in answers] == ["invalid_credentials"] * 5 + ["throttled"]

    # The owner, from a connection that has not failed, gets in at once...
    assert isinstance(_attempt(OWNER, PASSWORD, OWNER_IP), str)
    # ...while the attacker's connections are paused, even with the right password,
    refused = _attempt(OWNER, PASSWORD, "203.0.113.1")
    assert isinstance(refused, AuthFailed)
    assert refused.code == "throttled"
    assert 0 < refused.retry_after <= 2
    # and a fresh attacker connection gets one guess before the account pause binds it too.
    assert _attempt(OWNER, "another-guess", "198.51.100.7").code in {
        "invalid_credentials",
        "throttled",
    }
    assert _attempt(OWNER, PASSWORD, "198.51.100.7").code == "throttled"

    throttle = LoginThrottle(redis_client, settings)
    _wait_until_free(throttle, OWNER, "203.0.113.1", limit=3)
    assert throttle.retry_after(OWNER, "203.0.113.1") == 0


def test_an_ip_spraying_many_accounts_is_paused_for_every_account(use_settings):
    use_settings(login_failures_per_ip=6, login_ip_pause_seconds=30)
    factories.make_user(email=OWNER)
    targets = [f"victim{n}@example.com" for n in range(6)]
    for email in targets[:3]:
        factories.make_user(email=email)

    answers = [_attempt(email, "Summer2026!!", ATTACKER_IP) for email in targets]

    assert [a.code for a in answers] == ["invalid_credentials"] * 5 + ["throttled"]
    assert answers[-1].retry_after == 30
    # Even a right password for an account it never tried is refused from that IP...
    refused = _attempt(OWNER, PASSWORD, ATTACKER_IP)
    assert isinstance(refused, AuthFailed)
    assert refused.code == "throttled"
    assert 2 < refused.retry_after <= 30
    # ...while the accounts it sprayed stay open to their owners elsewhere.
    assert isinstance(_attempt(targets[0], PASSWORD, OWNER_IP), str)
    assert isinstance(_attempt(OWNER, PASSWORD, OWNER_IP), str)


def test_a_successful_sign_in_clears_the_pairs_failure_count(use_settings):
    use_settings()
    factories.make_user(email=OWNER)
    for n in range(4):
        assert _attempt(OWNER, f"typo-{n}", OWNER_IP).code == "invalid_credentials"

    assert isinstance(_attempt(OWNER, PASSWORD, OWNER_IP), str)

    later = [_attempt(OWNER, f"later-typo-{n}", OWNER_IP) for n in range(5)]
    assert [a.code for a in later] == ["invalid_credentials"] * 4 + ["throttled"]
