"""Sends the sandbox providers' signed webhooks: in the background, retried with backoff, logged.

A provider hands over a `build` callable rather than fixed bytes, because some sign each
attempt afresh (a new timestamp, as Stripe and PayPal do) while others resend the same
bytes. Deliveries can be sent again on request (a re-delivery, as the real dashboards allow).
Only loopback URLs are ever called.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from backend.sandbox.carriers.push import loopback_url

log = logging.getLogger("waybill.sandbox.payments")

# (headers, body) for one attempt.
Build = Callable[[], tuple[dict[str, str], bytes]]
# Whether an answer (status, body) counts as received; by default any 2xx.
Accepted = Callable[[int, bytes], bool]


def any_2xx(status: int, body: bytes) -> bool:
    return 200 <= status < 300


@dataclass
class Delivery:
    id: int
    provider: str
    event_id: str
    url: str
    build: Build
    accepted: Accepted = any_2xx
    attempts: list[dict] = field(default_factory=list)  # {"attempt", "status", "at", "accepted"}

    def view(self) -> dict:
        return {
            "id": self.id,
            "provider": self.provider,
            "event_id": self.event_id,
            "url": self.url,
            "attempts": list(self.attempts),
            "delivered": any(a["accepted"] for a in self.attempts),
        }


class Notifier:
    def __init__(self, attempts: int = 5, backoff_seconds: float = 1.0, cap_seconds: float = 60.0):
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._cap = cap_seconds
        self._ids = itertools.count(1)
        self._deliveries: dict[int, Delivery] = {}
        self._tasks: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0), trust_env=False, follow_redirects=False
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client:
            await self._client.aclose()

    def send(
        self,
        provider: str,
        event_id: str,
        url: str,
        build: Build,
        delay: float = 0.0,
        accepted: Accepted = any_2xx,
    ) -> Delivery:
        """Queue a webhook; it goes out after `delay` seconds and is retried until accepted."""
        if not loopback_url(url):
            raise ValueError("webhook URLs must be on 127.0.0.1 or localhost")
        delivery = Delivery(next(self._ids), provider, event_id, url, build, accepted)
        self._deliveries[delivery.id] = delivery
        self._spawn(delivery, delay)
        return delivery

    def redeliver(self, delivery_id: int) -> Delivery | None:
        delivery = self._deliveries.get(delivery_id)
        if delivery is not None:
            self._spawn(delivery, 0.0)
        return delivery

    def deliveries(self, provider: str = "") -> list[dict]:
        return [
            d.view() for d in self._deliveries.values() if not provider or d.provider == provider
        ]

    def reset(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._deliveries.clear()

    def _spawn(self, delivery: Delivery, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, delay: float) -> None:
        assert self._client is not None, "Notifier.start() was not awaited"
        if delay:
            await asyncio.sleep(delay)
        for attempt in range(1, self._attempts + 1):
            headers, body = delivery.build()
            status, content = 0, b""  # no HTTP answer: refused, reset or timed out
            with contextlib.suppress(httpx.HTTPError):
                answer = await self._client.post(delivery.url, content=body, headers=headers)
                status, content = answer.status_code, answer.content
            ok = delivery.accepted(status, content)
            delivery.attempts.append(
                {"attempt": attempt, "status": status, "at": time.time(), "accepted": ok}
            )
            if ok:
                return
            if attempt < self._attempts:
                await asyncio.sleep(min(self._backoff * 2 ** (attempt - 1), self._cap))
        log.warning("gave up on %s webhook %s", delivery.provider, delivery.event_id)
