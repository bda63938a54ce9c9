"""Per-key rate limits as the carriers document them: a token bucket of one second's burst each."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# requests per second per API key; None: the carrier documents no limit
RATES: dict[str, float | None] = {"harbour-post": 10.0, "pearl-river": 2.0, "swiftlink": None}


class TokenBucket:
    """Holds up to `rate` tokens (a one-second burst), refilled continuously at `rate` per second."""

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.capacity = rate
        self.tokens = rate
        self.updated = now

    def take(self, now: float) -> int | None:
        """Spend a token and return None, or return the Retry-After in whole seconds (at least 1)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


class Limiter:
    """One bucket per (carrier, key); a refused request does not spend a token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def check(self, carrier: str, api_key: str) -> int | None:
        rate = RATES.get(carrier)
        if rate is None:
            return None
        now = self._clock()
        bucket = self._buckets.get((carrier, api_key))
        if bucket is None:
            bucket = self._buckets[(carrier, api_key)] = TokenBucket(rate, now)
        return bucket.take(now)

    def reset(self) -> None:
        self._buckets.clear()
