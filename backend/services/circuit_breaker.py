"""A circuit breaker per carrier account in Redis, so every worker sees one state and one trial."""

from __future__ import annotations

import math
from typing import Literal

import redis

from backend.services.carrier_throttle import LuaScript

State = Literal["closed", "open", "half_open"]

# Keys per account (one hash tag, so the scripts may touch them all on a cluster too):
#   failures  consecutive failures while closed
#   open      exists while the breaker refuses calls; Redis expires it after open_seconds,
#             so the server's clock, not any worker's, decides when the pause is over
#   tripped   exists from the trip until a success: once `open` is gone, half-open
#   trial     the one half-open trial call's lease (SET NX PX); it expires so a worker
#             that died mid-trial cannot keep the breaker half-open forever
# Every transition is one script, so two workers cannot both move the same state.

# KEYS: open, tripped, trial. ARGV: trial lease ms. Returns 1 when the call may go ahead.
_ALLOW = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 1
end
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then
  return 1
end
return 0
"""

# KEYS: failures, open, tripped, trial.
_SUCCESS = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0  -- a straggler that started before the trip says nothing about the carrier now
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
return 1
"""

# KEYS: failures, open, tripped, trial. ARGV: threshold, open ms, tripped ms, failure window ms.
# Returns 1 when this failure (re)opened the breaker.
_FAILURE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0  -- already open: a straggler's failure must not stretch the pause
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local failures = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  if failures < tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
redis.call('DEL', KEYS[1], KEYS[4])
return 1
"""

# KEYS: open, tripped. Returns 0 closed, 1 open, 2 half-open.
_STATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 2
end
return 0
"""

_allow_script = LuaScript(_ALLOW)
_success_script = LuaScript(_SUCCESS)
_failure_script = LuaScript(_FAILURE)
_state_script = LuaScript(_STATE)

_STATES: dict[int, State] = {0: "closed", 1: "open", 2: "half_open"}


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class CircuitBreaker:
    """closed -> open after `failure_threshold` consecutive failures -> half-open after
    `open_seconds` (one trial call at a time across all workers) -> closed on a success,
    open again on a failure.

    Failures are timeouts, 5xx and connection errors; a 429 is the token bucket's business.
    A run of failures is forgotten after `failure_window_seconds` without another one.
    A half-open breaker nobody tries for `half_open_ttl_seconds` forgets it tripped.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        failure_threshold: int = 5,
        open_seconds: float = 30.0,
        trial_lease_seconds: float = 30.0,
        failure_window_seconds: float = 300.0,
        half_open_ttl_seconds: float = 86400.0,
        key_prefix: str = "wb:breaker",
    ):
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._redis = client
        self._threshold = failure_threshold
        self._open_ms = _ms(open_seconds)
        self._lease_ms = _ms(trial_lease_seconds)
        self._window_ms = _ms(failure_window_seconds)
        # `tripped` must outlive `open`, or the breaker would skip half-open and close.
        self._tripped_ms = self._open_ms + _ms(half_open_ttl_seconds)
        self._prefix = key_prefix

    def _keys(self, account_key: str) -> dict[str, str]:
        base = f"{self._prefix}:{{{account_key}}}"
        return {name: f"{base}:{name}" for name in ("failures", "open", "tripped", "trial")}

    def allow(self, account_key: str) -> bool:
        """May a call go to this account's carrier now? Half-open: True for one caller at a time."""
        k = self._keys(account_key)
        keys = [k["open"], k["tripped"], k["trial"]]
        return bool(int(_allow_script(self._redis, keys, [self._lease_ms])))

    def record_success(self, account_key: str) -> None:
        """A call answered: close the breaker (from half-open) and forget the failures."""
        k = self._keys(account_key)
        _success_script(self._redis, [k["failures"], k["open"], k["tripped"], k["trial"]], [])

    def record_failure(self, account_key: str) -> bool:
        """A call timed out, failed to connect or got a 5xx. True when this opened the breaker."""
        k = self._keys(account_key)
        args = [self._threshold, self._open_ms, self._tripped_ms, self._window_ms]
        keys = [k["failures"], k["open"], k["tripped"], k["trial"]]
        return bool(int(_failure_script(self._redis, keys, args)))

    def release_trial(self, account_key: str) -> None:
        """Give back a half-open trial that allow() granted but that never reached the carrier
        (no token, say), so the next caller may try now instead of after the lease."""
        self._redis.delete(self._keys(account_key)["trial"])

    def state(self, account_key: str) -> State:
        k = self._keys(account_key)
        return _STATES[int(_state_script(self._redis, [k["open"], k["tripped"]], []))]

    def failures(self, account_key: str) -> int:
        """Consecutive failures counted so far while closed."""
        return int(self._redis.get(self._keys(account_key)["failures"]) or 0)
