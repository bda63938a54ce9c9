"""One token bucket per carrier account in Redis, shared by every worker process and machine."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence

import redis
from redis.exceptions import NoScriptError

# Celery's rate_limit counts per worker, so two workers would together double a carrier's
# limit; the bucket lives in Redis instead. Check-and-take is one Lua script, so two workers
# can never both see the last token. The script reads the clock with TIME, so the servers'
# own clocks never matter, and only Redis's clock moves the bucket.
#
# KEYS[1] bucket hash {tokens, ts}; KEYS[2] the Retry-After block (its PTTL is the time left).
# ARGV: rate per second, capacity, a fixed "now" in seconds or "" for Redis's clock.
# Returns {taken 1|0, wait in microseconds}.
_TAKE = """
local bucket, blocked = KEYS[1], KEYS[2]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local block_ms = redis.call('PTTL', blocked)
if block_ms > 0 then
  return {0, block_ms * 1000}
end
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', bucket, 'tokens', 'ts')
local tokens, last = tonumber(state[1]), tonumber(state[2])
if tokens == nil or last == nil then
  tokens, last = capacity, now
end
if now < last then
  now = last  -- Redis's clock stepped back: refill nothing rather than rewind the bucket
end
tokens = math.min(capacity, tokens + (now - last) * rate)
local taken, wait = 0, 0
if tokens >= 1 then
  tokens, taken = tokens - 1, 1
else
  wait = (1 - tokens) / rate
end
-- %.17g writes both doubles exactly, so no rounding can ever add a sliver of a token.
redis.call('HSET', bucket, 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
-- A missing bucket reads as full, and an idle one is full again after capacity/rate
-- seconds, so expiring it then loses nothing and keeps dead accounts out of Redis.
redis.call('PEXPIRE', bucket, math.ceil((capacity / rate) * 1000) + 1000)
return {taken, math.ceil(wait * 1000000)}
"""

# Retry-After from one worker's 429 stops all of them; a shorter later block must not cut
# short a longer earlier one (PEXPIRE ... GT needs Redis 7, so compare in a script).
_BLOCK = """
local ms = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
  return ms
end
return left
"""


class LuaScript:
    """A Lua script run by EVALSHA, falling back to EVAL (which also caches it) on NOSCRIPT."""

    def __init__(self, source: str):
        self.source = source
        # SHA-1 here is Redis's script identifier, not a security measure.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, client: redis.Redis, keys: Sequence[str], args: Sequence[object]):
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            # A restarted or flushed (SCRIPT FLUSH) Redis has forgotten the script.
            return client.eval(self.source, len(keys), *keys, *args)


_take_script = LuaScript(_TAKE)
_block_script = LuaScript(_BLOCK)


def _refill(tokens: float, last: float, now: float, rate: float, capacity: float) -> float:
    """Tokens in the bucket at `now` (mirrors the Lua script): linear refill, capped."""
    elapsed = max(0.0, now - last)
    return min(capacity, tokens + elapsed * rate)


def _take(tokens: float, rate: float) -> tuple[float, float]:
    """(tokens left, seconds to wait): one token taken when there is one, else nothing."""
    if tokens >= 1:
        return tokens - 1, 0.0
    return tokens, (1 - tokens) / rate


class TokenBucket:
    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str = "wb:bucket",
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._redis = client
        self._prefix = key_prefix
        self._sleep = sleep

    def _keys(self, account_key: str) -> list[str]:
        # The hash tag keeps both keys in one slot, as a script's keys must be on a cluster.
        base = f"{self._prefix}:{{{account_key}}}"
        return [f"{base}:tokens", f"{base}:blocked"]

    def try_acquire(
        self, account_key: str, rate_per_second: float, capacity: float, now: float | None = None
    ) -> float:
        """0.0 when a token was taken; else the seconds until one will be (nothing taken).

        While the account is blocked by block(), the block's remaining time. `now` replaces
        Redis's clock and exists only for tests of the arithmetic.
        """
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if capacity < 1:
            raise ValueError("capacity must be at least 1, or no token could ever be taken")
        args = [
            repr(float(rate_per_second)),
            repr(float(capacity)),
            "" if now is None else repr(now),
        ]
        taken, wait_us = _take_script(self._redis, self._keys(account_key), args)
        if int(taken):
            return 0.0
        return max(int(wait_us), 1) / 1_000_000

    def acquire(self, account_key: str, rate: float, capacity: float, max_wait: float) -> bool:
        """Take a token, waiting up to `max_wait` seconds for one; False if none came in time."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_acquire(account_key, rate, capacity)
            if wait == 0.0:
                return True
            left = deadline - time.monotonic()
            if wait > left:
                # No token can be ours before the deadline: give up now rather than sleep for nothing.
                return False
            self._sleep(wait)

    def block(self, account_key: str, seconds: float) -> float:
        """Stop every worker taking tokens for this account for `seconds` (a carrier's Retry-After).

        The later of an existing and this block wins. Returns the seconds the block now lasts.
        """
        ms = math.ceil(float(seconds) * 1000)
        if ms <= 0:
            return self.blocked_for(account_key)
        left_ms = _block_script(self._redis, self._keys(account_key)[1:], [ms])
        return int(left_ms) / 1000

    def blocked_for(self, account_key: str) -> float:
        """Seconds left of this account's block; 0.0 when it is not blocked."""
        left_ms = int(self._redis.pttl(self._keys(account_key)[1]))
        return left_ms / 1000 if left_ms > 0 else 0.0
