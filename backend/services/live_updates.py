"""Tell open pages that something they show has changed, from any process (a Celery worker).

A page showing an order registers its browser tab (the Reflex client token) under a
topic such as "order:<id>" in Redis; when a worker changes that order it calls
publish(), which posts the topic to the app's internal route with the shared
internal token; the app then refreshes those tabs' state from the database. The
database stays the truth: a lost push only means the page refreshes later. Client
tokens are bearer secrets: they stay in Redis and are never logged.
"""

from __future__ import annotations

import logging

import httpx

from backend.cache import get_redis
from backend.config import get_settings

WATCH_SECONDS = 3600
INTERNAL_PATH = "/api/internal/live"
log = logging.getLogger("waybill.live")


def _key(topic: str) -> str:
    return f"wb:live:{topic}"


def watch(topic: str, client_token: str) -> None:
    if not client_token:
        return
    pipe = get_redis().pipeline(transaction=False)
    pipe.sadd(_key(topic), client_token)
    pipe.expire(_key(topic), WATCH_SECONDS)
    pipe.execute()


def unwatch(topic: str, client_token: str) -> None:
    get_redis().srem(_key(topic), client_token)


def watchers(topic: str) -> list[str]:
    return sorted(
        t.decode() if isinstance(t, bytes) else t for t in get_redis().smembers(_key(topic))
    )


def publish(topic: str) -> bool:
    """Ask the app to refresh the pages watching `topic`; False (logged) when it cannot be told."""
    return publish_each([topic]) == 1


def publish_each(topics: list[str]) -> int:
    """publish() for many topics (the parcels of one carrier batch): one Redis round trip
    finds the few that anyone watches, and only those are posted. Returns how many were."""
    settings = get_settings()
    if not topics or not settings.internal_token:
        return 0
    pipe = get_redis().pipeline(transaction=False)
    for topic in topics:
        pipe.exists(_key(topic))
    watched = [topic for topic, seen in zip(topics, pipe.execute(), strict=True) if seen]
    return sum(_post(topic, settings.port, settings.internal_token) for topic in watched)


def _post(topic: str, port: int, internal_token: str) -> bool:
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}{INTERNAL_PATH}",
            json={"topic": topic},
            headers={"X-Internal-Token": internal_token},
            timeout=3.0,
            trust_env=False,
        )
    except httpx.HTTPError as error:
        log.warning(
            "live update for %s not delivered: %s", topic.split(":")[0], type(error).__name__
        )
        return False
    return answer.status_code == 200
