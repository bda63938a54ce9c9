"""The request log per carrier (last 100k requests), for tests to check limits and faults."""

from __future__ import annotations

import hashlib
from collections import Counter, deque

from backend.sandbox.carriers.accounts import CARRIERS

KEEP = 100_000


def key_label(api_key: str) -> str:
    """How the log shows a key: its first six characters and an ellipsis, never the whole key."""
    return f"{api_key[:6]}…" if api_key else ""


def key_id(api_key: str) -> str:
    """A short digest that tells apart keys sharing their first six characters."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:10] if api_key else ""


class RequestLog:
    def __init__(self) -> None:
        self._requests: dict[str, deque[dict]] = {c: deque(maxlen=KEEP) for c in CARRIERS}
        self._pushes: deque[dict] = deque(maxlen=KEEP)

    def record(self, carrier: str, api_key: str, at: float, status: int, path: str) -> None:
        self._requests[carrier].append(
            {
                "key": key_label(api_key),
                "key_id": key_id(api_key),
                "at": at,
                "status": status,
                "path": path,
            }
        )

    def record_push(self, entry: dict) -> None:
        self._pushes.append(entry)

    def snapshot(self, carrier: str, since: float | None = None) -> dict:
        """Requests oldest first by arrival (a hung request is logged when it is answered)."""
        requests = sorted(
            (r for r in self._requests[carrier] if since is None or r["at"] >= since),
            key=lambda r: r["at"],
        )
        answer = {
            "carrier": carrier,
            "requests": requests,
            "count": len(requests),
            "by_status": {
                str(k): v for k, v in sorted(Counter(r["status"] for r in requests).items())
            },
        }
        if carrier == "swiftlink":
            answer["pushes"] = [p for p in self._pushes if since is None or p["at"] >= since]
        return answer

    def reset(self) -> None:
        for log in self._requests.values():
            log.clear()
        self._pushes.clear()
