"""What a person sees when an event fails unexpectedly (a database or Redis outage, a bug)."""

import logging
import traceback

import reflex as rx
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from reflex.event import EventSpec
from sqlalchemy.exc import OperationalError

from portal.i18n import CATALOG

logger = logging.getLogger("waybill.portal")

_OUTAGES = (OperationalError, RedisConnectionError, RedisTimeout, ConnectionError)


# No `from __future__ import annotations` here: Reflex evaluates this signature at start-up.
def backend_exception_handler(exception: Exception) -> EventSpec:
    """Log the traceback for us; tell the person, in both languages, without internals."""
    logger.error("event failed:\n%s", "".join(traceback.format_exception(exception)))
    if isinstance(exception, _OUTAGES):
        message = CATALOG["service_unavailable"]
    else:
        message = CATALOG["unexpected_error"]
    return rx.toast.error(message["en"], description=message["zh-HK"], position="top-center")
