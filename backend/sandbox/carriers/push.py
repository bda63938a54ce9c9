"""SwiftLink's push side: subscriptions, signed webhooks to loopback callbacks, retries and resend."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from backend.sandbox.carriers.formats import swiftlink_event_id, utc_iso
from backend.sandbox.carriers.journeys import Event, Journeys
from backend.sandbox.carriers.settings import SandboxSettings
from backend.sandbox.carriers.stats import RequestLog, key_id, key_label

CARRIER = "swiftlink"
MAX_URL_LENGTH = 2048
log = logging.getLogger("waybill.sandbox.push")


def loopback_url(url: str) -> bool:
    """True for http(s) URLs on localhost or a loopback address: the only places we push to."""
    if len(url) > MAX_URL_LENGTH:
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>` under the webhook secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def payload(number: str, event: Event) -> dict:
    return {
        "event_id": swiftlink_event_id(number, event.index),
        "tracking_number": number,
        "code": event.step.code,
        "occurred_at": utc_iso(event.at),
        "city": event.step.city,
        "country": event.step.country,
    }


@dataclass(eq=False)
class Subscription:
    id: str
    api_key: str
    secret: str
    tracking_number: str
    callback_url: str
    next_index: int = 0  # events before this one were handed to the delivery queue
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    worker: asyncio.Task | None = None


@dataclass(frozen=True)
class Delivery:
    event: Event
    resend: bool


class PushDispatcher:
    """One queue and worker per subscription, so one subscriber gets its events in order."""

    def __init__(self, journeys: Journeys, log: RequestLog, settings: SandboxSettings):
        self._journeys = journeys
        self._log = log
        self._settings = settings
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._client: httpx.AsyncClient | None = None
        self._ticker: asyncio.Task | None = None
        self._tick_seconds = min(1.0, max(0.05, settings.step_seconds / 4))

    async def start(self) -> None:
        # trust_env=False: no proxy from the environment; redirects are never followed.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0), trust_env=False, follow_redirects=False
        )
        self._ticker = asyncio.create_task(self._tick_forever())

    async def stop(self) -> None:
        tasks = [s.worker for s in self._subscriptions.values() if s.worker]
        if self._ticker:
            tasks.append(self._ticker)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client:
            await self._client.aclose()

    def subscribe(
        self, api_key: str, secret: str, number: str, callback_url: str
    ) -> tuple[Subscription, bool]:
        """One subscription per (key, number): subscribing again only updates the callback URL."""
        if not loopback_url(callback_url):
            raise ValueError("callback URLs must be on 127.0.0.1 or localhost")
        existing = self._subscriptions.get((api_key, number))
        if existing:
            existing.callback_url = callback_url
            return existing, False
        self._journeys.start(CARRIER, number)
        digest = hashlib.sha256(f"{api_key}|{number}".encode()).hexdigest()[:20]
        subscription = Subscription(f"sub_{digest}", api_key, secret, number, callback_url)
        subscription.worker = asyncio.create_task(self._deliver_forever(subscription))
        self._subscriptions[(api_key, number)] = subscription
        self._catch_up(subscription, time.time())
        return subscription, True

    def resend(self, api_key: str, since: float) -> int:
        """Queue again every event already pushed (or queued) since `since`, with the same ids."""
        queued = 0
        for subscription in list(self._subscriptions.values()):
            journey = self._journeys.get(CARRIER, subscription.tracking_number)
            if subscription.api_key != api_key or journey is None:
                continue
            for index in range(subscription.next_index):
                event = journey.event(index)
                if event.at >= since:
                    subscription.queue.put_nowait(Delivery(event, resend=True))
                    queued += 1
        return queued

    def reset(self) -> None:
        for subscription in self._subscriptions.values():
            if subscription.worker:
                subscription.worker.cancel()
        self._subscriptions.clear()

    def _catch_up(self, subscription: Subscription, now: float) -> None:
        journey = self._journeys.start(CARRIER, subscription.tracking_number)
        visible = journey.visible_count(now)
        while subscription.next_index < visible:
            event = journey.event(subscription.next_index)
            subscription.queue.put_nowait(Delivery(event, resend=False))
            subscription.next_index += 1

    async def _tick_forever(self) -> None:
        while True:
            now = time.time()
            for subscription in list(self._subscriptions.values()):
                self._catch_up(subscription, now)
            await asyncio.sleep(self._tick_seconds)

    async def _deliver_forever(self, subscription: Subscription) -> None:
        while True:
            delivery = await subscription.queue.get()
            try:
                await self._deliver(subscription, delivery)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the worker alive whatever one push did
                log.exception("push of %s failed unexpectedly", subscription.tracking_number)

    async def _deliver(self, subscription: Subscription, delivery: Delivery) -> None:
        """POST one event, retrying non-2xx answers and connection failures with backoff."""
        assert self._client is not None
        body = json.dumps(
            payload(subscription.tracking_number, delivery.event),
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        event_id = swiftlink_event_id(subscription.tracking_number, delivery.event.index)
        attempts = self._settings.push_attempts
        for attempt in range(1, attempts + 1):
            url = subscription.callback_url
            if not loopback_url(url):  # checked at subscription too; never push elsewhere
                return
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "SwiftLink-Webhooks/1 (waybill sandbox)",
                "X-SwiftLink-Timestamp": timestamp,
                "X-SwiftLink-Signature": signature(subscription.secret, timestamp, body),
            }
            status = 0  # no HTTP answer: connection refused, reset or timed out
            with contextlib.suppress(httpx.HTTPError):
                status = (await self._client.post(url, content=body, headers=headers)).status_code
            self._log.record_push(
                {
                    "event_id": event_id,
                    "tracking_number": subscription.tracking_number,
                    "key": key_label(subscription.api_key),
                    "key_id": key_id(subscription.api_key),
                    "url": url,
                    "attempt": attempt,
                    "status": status,
                    "at": time.time(),
                    "resend": delivery.resend,
                }
            )
            if 200 <= status < 300:
                return
            if attempt < attempts:
                delay = self._settings.push_backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(min(delay, self._settings.push_backoff_cap_seconds))
        log.warning("gave up pushing %s after %d attempts", event_id, attempts)
