"""Hand work to the Celery workers after a commit; a broker that is down is logged, never fatal.

Whatever is enqueued here is also recorded in the database first (inbox rows,
refunds), and a reconciler re-enqueues what a lost message left behind.
"""

from __future__ import annotations

import logging

from backend.jobs.celery_app import celery_app

log = logging.getLogger("waybill.jobs")


def enqueue(task: str, *args: str, queue: str) -> bool:
    try:
        # Nobody waits for these results: without ignore_result the publisher subscribes to the
        # result channel first, and with Redis down that subscription retries for ~20 s (20 x 1 s)
        # before failing, holding up the request (the event loop, for a webhook route).
        celery_app.send_task(task, args=list(args), queue=queue, retry=False, ignore_result=True)
    except Exception as error:  # the broker is down: the reconciler will pick the work up
        log.warning("could not enqueue %s (%s); the reconciler will", task, type(error).__name__)
        return False
    return True
