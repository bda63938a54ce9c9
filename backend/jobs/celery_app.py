"""The Celery app shared by every worker, the one beat scheduler and the code that enqueues."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from backend import cache
from backend.gc_freeze import freeze_startup_objects

QUEUES = ("webhooks", "tracking", "ingest", "reports", "default")
DEFAULT_QUEUE = "default"
HEARTBEAT_INTERVAL_SECONDS = 30.0
TRACKING_DISPATCH_SECONDS = 5.0

# Task modules load when the app is finalized (worker start, first send), not on import,
# so services may import this module without importing the tasks that import services.
TASK_MODULES = [
    "backend.jobs.health_tasks",
    "backend.jobs.tracking_tasks",
    "backend.jobs.payment_tasks",
]

celery_app = Celery("waybill", include=TASK_MODULES)


def celery_settings(redis_url: str) -> dict[str, Any]:
    """Every setting of the app for a given Redis URL (broker, results and beat share it)."""
    return {
        "broker_url": redis_url,
        "result_backend": redis_url,
        "broker_connection_retry_on_startup": True,
        # A dead Redis must fail a publish or a health probe in seconds, not hang a page.
        "broker_connection_timeout": 3.0,
        "broker_transport_options": {
            "socket_connect_timeout": 2,
            # acks_late with Redis: an unacked message is redelivered after this long, so it
            # must exceed the longest task (reports included).
            "visibility_timeout": 3600,
        },
        "redis_socket_connect_timeout": 2,
        "redis_socket_timeout": 10,
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_default_queue": DEFAULT_QUEUE,
        "task_default_routing_key": DEFAULT_QUEUE,
        "task_routes": {
            "waybill.webhooks.*": {"queue": "webhooks"},
            "waybill.tracking.*": {"queue": "tracking"},
            "waybill.ingest.*": {"queue": "ingest"},
            "waybill.reports.*": {"queue": "reports"},
        },
        # Tasks are idempotent: losing a worker mid-task must re-run it, never drop it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "result_expires": timedelta(hours=1),
        # Exactly one beat runs: the others wait on a lock in Redis. The lock is extended on
        # every tick (at most beat_max_loop_interval apart) and a standby takes over once it
        # lapses, so a crashed beat is replaced within redbeat_lock_timeout.
        "beat_scheduler": "redbeat.RedBeatScheduler",
        "redbeat_redis_url": redis_url,
        "redbeat_key_prefix": "waybill:redbeat:",
        "redbeat_lock_timeout": 60,
        "beat_max_loop_interval": 10,
        "beat_schedule": {
            "waybill-health-heartbeat": {
                "task": "waybill.health.heartbeat",
                "schedule": HEARTBEAT_INTERVAL_SECONDS,
                # A heartbeat that waited longer than its interval in the queue says nothing.
                "options": {"expires": HEARTBEAT_INTERVAL_SECONDS},
            },
            # Hands due parcels to the tracking workers; a dispatch that waited past the next
            # one is dropped (the next one leases the same parcels).
            "waybill-tracking-dispatch": {
                "task": "waybill.tracking.dispatch",
                "schedule": TRACKING_DISPATCH_SECONDS,
                "options": {"expires": TRACKING_DISPATCH_SECONDS},
            },
            # Push-only carriers re-send what they pushed lately: a lost push comes back.
            "waybill-tracking-request-resends": {
                "task": "waybill.tracking.request_resends",
                "schedule": 300.0,
                "options": {"expires": 300.0},
            },
            # Inbox rows stored but never applied (Redis lost the queued message) go again.
            "waybill-webhooks-reconcile-payment-inbox": {
                "task": "waybill.webhooks.reconcile_payment_inbox",
                "schedule": 60.0,
                "options": {"expires": 60.0},
            },
            # Open payments and refunds are re-read from their providers; mismatches go to staff.
            "waybill-payments-reconcile": {
                "task": "waybill.payments.reconcile",
                "schedule": 120.0,
                "options": {"expires": 120.0},
            },
            "waybill-webhooks-reconcile-carrier-inbox": {
                "task": "waybill.webhooks.reconcile_carrier_inbox",
                "schedule": 60.0,
                "options": {"expires": 60.0},
            },
        },
    }


def configure(redis_url: str | None = None) -> Celery:
    """Point the app at `redis_url` (default: the configured Redis) and drop old connections.

    Normal processes never call this: the settings are applied lazily (below) the first time
    the configuration is read. Tests call it after changing REDIS_URL.
    """
    celery_app.conf.update(celery_settings(redis_url or cache.redis_url()))
    _forget_connections()
    return celery_app


def _forget_connections() -> None:
    # Celery caches the broker pool, the producer pool and a result backend per thread, and
    # redbeat caches its config; all of them hold the old URL. The pools themselves live in
    # kombu's per-URL registry and are reused on a return to that URL, so they stay open.
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._local = threading.local()
    celery_app._backend_cache = None
    celery_app.__dict__.pop("redbeat_conf", None)


# Resolved when the configuration is first read (a worker starting, a first send), never on
# import, so importing backend code does not start an embedded Redis.
celery_app.add_defaults(lambda: celery_settings(cache.redis_url()))


@worker_process_init.connect
def _freeze_after_fork(**_: Any) -> None:
    # Each prefork child starts with the parent's app and task modules: out of the collector.
    freeze_startup_objects()
