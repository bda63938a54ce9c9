"""Health tasks: the ping /healthz sends through the default queue, and beat's heartbeat."""

from __future__ import annotations

from typing import Any

from backend.jobs.celery_app import celery_app
from backend.services import health


@celery_app.task(name="waybill.health.ping", bind=True, acks_late=False)
def ping(self) -> dict[str, Any]:
    # acks_late off: a ping lost with its worker must not be re-run after the prober gave up.
    return health.ping_answer(self.request.hostname)


@celery_app.task(name="waybill.health.heartbeat", ignore_result=True)
def heartbeat() -> str:
    return health.record_heartbeat()
