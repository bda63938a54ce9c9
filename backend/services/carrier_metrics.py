"""Per-second counters of each carrier account's requests and their outcomes, for the staff page."""

from __future__ import annotations

import math
import time
from typing import Any

import redis

OUTCOMES = ("ok", "rate_limited", "error", "timeout")
RETENTION_SECONDS = 600  # the longest window summary() can look back over


class CarrierMetrics:
    """One small hash per account and epoch second ({outcome: count}), expiring by itself.

    The second comes from this machine's clock: a second Redis round trip for TIME on every
    carrier request is not worth it for numbers staff read by eye.
    """

    def __init__(self, client: redis.Redis, key_prefix: str = "wb:cmetrics"):
        self._redis = client
        self._prefix = key_prefix

    def _key(self, account_key: str, second: int) -> str:
        # The hash tag keeps an account's seconds in one slot, so one pipeline reads them all.
        return f"{self._prefix}:{{{account_key}}}:{second}"

    def record(self, account_key: str, outcome: str, now: float | None = None) -> None:
        """Count one carrier request and how it ended: ok, rate_limited, error or timeout."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
        key = self._key(account_key, math.floor(time.time() if now is None else now))
        # One round trip and no MULTI: this runs on every carrier request, and both commands
        # are sent together, so a counter without its TTL would need a dropped connection.
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(key, outcome, 1)
        pipe.expire(key, RETENTION_SECONDS)
        pipe.execute()

    def summary(
        self, account_key: str, window_seconds: int = 60, now: float | None = None
    ) -> dict[str, Any]:
        """The last `window_seconds` seconds, the current one included.

        {"window_seconds", "requests", "requests_per_second" (requests / window_seconds),
        "counts": {outcome: n for every outcome}, "peak": most requests in any one second}.
        """
        if not 1 <= window_seconds <= RETENTION_SECONDS:
            raise ValueError(f"window_seconds must be between 1 and {RETENTION_SECONDS}")
        current = math.floor(time.time() if now is None else now)
        pipe = self._redis.pipeline(transaction=False)
        for second in range(current - window_seconds + 1, current + 1):
            pipe.hgetall(self._key(account_key, second))
        counts = dict.fromkeys(OUTCOMES, 0)
        peak = 0
        for fields in pipe.execute():
            in_second = 0
            for outcome, count in fields.items():
                name = outcome.decode() if isinstance(outcome, bytes) else outcome
                if name in counts:
                    counts[name] += int(count)
                    in_second += int(count)
            peak = max(peak, in_second)
        requests = sum(counts.values())
        return {
            "window_seconds": window_seconds,
            "requests": requests,
            "requests_per_second": requests / window_seconds,
            "counts": counts,
            "peak": peak,
        }
