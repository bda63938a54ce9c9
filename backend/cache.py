"""Redis connection (broker, Reflex state, throttles); starts the embedded Redis when no REDIS_URL is set."""

from __future__ import annotations

from functools import lru_cache

import redis

from backend.config import get_settings


@lru_cache(maxsize=1)
def redis_url() -> str:
    settings = get_settings()
    if settings.redis_url:
        return settings.redis_url
    from backend.embedded import ensure_redis

    return ensure_redis(settings.data_dir, settings.embedded_redis_port)


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """Shared client; short timeouts so a dead Redis fails fast instead of hanging a page."""
    return redis.Redis.from_url(
        redis_url(), socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )


def reset_redis() -> None:
    get_redis.cache_clear()
    redis_url.cache_clear()
