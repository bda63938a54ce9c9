"""Sign-in throttling in Redis, per (account, IP), per account and per IP.

Failures are counted in fixed windows. Past its limit a key is paused: a pair's
pause doubles with each further failure (capped); an account's pause is short and
binds only connections that have failed on that account themselves, so a stranger
cannot keep the owner out; an IP that fails across many accounts pauses longest.
While paused the password is not even checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis

from backend.config import Settings


@dataclass(frozen=True)
class _Scope:
    name: str
    limit: int
    pause_seconds: int
    doubling: bool = False


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, client: redis.Redis, settings: Settings):
        self._redis = client
        self._settings = settings

    def _scopes(self, email: str, ip: str) -> list[tuple[str, _Scope]]:
        s = self._settings
        account = _digest(email.lower())
        return [
            (
                f"wb:login:pair:{account}:{_digest(ip)}",
                _Scope("pair", s.login_failures_per_pair, s.login_pair_base_pause_seconds, True),
            ),
            (
                f"wb:login:account:{account}",
                _Scope("account", s.login_failures_per_account, s.login_account_pause_seconds),
            ),
            (
                f"wb:login:ip:{_digest(ip)}",
                _Scope("ip", s.login_failures_per_ip, s.login_ip_pause_seconds),
            ),
        ]

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until this account may be tried from this IP again; 0 when it may now."""
        (pair_key, _), (account_key, _), (ip_key, _) = self._scopes(email, ip)
        pipe = self._redis.pipeline()
        pipe.exists(pair_key)
        for key in (pair_key, account_key, ip_key):
            pipe.ttl(f"{key}:paused")
        pair_has_failed, *ttls = pipe.execute()
        pair_ttl, account_ttl, ip_ttl = (max(int(ttl or 0), 0) for ttl in ttls)
        # The account-wide pause binds only connections that have themselves failed on this
        # account: a stranger's guesses elsewhere never keep the owner out of a clean connection.
        if not pair_has_failed:
            account_ttl = 0
        return max(pair_ttl, account_ttl, ip_ttl)

    def record_failure(self, email: str, ip: str) -> int:
        """Count a failure; return the pause it triggers (0 when none)."""
        window = self._settings.login_window_seconds
        longest = 0
        for key, scope in self._scopes(email, ip):
            # SET NX EX starts the window on the first failure (EXPIRE NX needs Redis 7).
            pipe = self._redis.pipeline()
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
            count = int(pipe.execute()[1])
            if count < scope.limit:
                continue
            pause = scope.pause_seconds
            if scope.doubling:
                over = count - scope.limit
                pause = min(
                    scope.pause_seconds * 2 ** min(over, 16),
                    self._settings.login_pair_max_pause_seconds,
                )
            self._redis.set(f"{key}:paused", 1, ex=pause)
            longest = max(longest, pause)
        return longest

    def record_success(self, email: str, ip: str) -> None:
        """The owner got in from this IP: forget this pair's failures (not the account's or IP's)."""
        pair_key, _ = self._scopes(email, ip)[0]
        self._redis.delete(pair_key, f"{pair_key}:paused")
