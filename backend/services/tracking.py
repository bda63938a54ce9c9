"""Public tracking: look numbers up (rate limited), and reveal the recipient after a second factor.

A stranger with a number sees status, timeline and city-level places. The
recipient's name, address and phone need the last four digits of the recipient's
phone or the postcode. Numbers nobody knows are counted separately: many of them
from one client is someone enumerating, who then gets nothing at all.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import ARRAY, String, any_, bindparam
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlmodel import select

from backend.cache import get_redis
from backend.config import get_settings
from backend.db import driver_autocommit, session_scope
from backend.domain import tracking
from backend.domain.statuses import ShipmentStatus
from backend.models import Carrier, CarrierAccount, Shipment, Tenant, TrackingEvent
from backend.services.errors import NotFound, RateLimited, ValidationFailed
from backend.services.rate_limit import Limit, RateLimiter

FOUND, UNKNOWN, MALFORMED = "found", "unknown", "malformed"
_PATTERN_CACHE_SECONDS = 60
# (loaded at, patterns); -inf so that the first call always loads, however young the clock.
_pattern_cache: tuple[float, list[re.Pattern[str]]] = (float("-inf"), [])


@dataclass(frozen=True)
class TimelineEntry:
    """One scan as strangers may see it: normalized status and reason, a city. A carrier's own
    wording is left out: it can name people ("signed by CHAN")."""

    occurred_at: datetime  # UTC
    local_time: datetime  # the same moment on the clock of the place
    status: str
    reason: str
    city: str
    country: str


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str
    address: str
    city: str
    postcode: str
    country: str


@dataclass(frozen=True)
class TrackingResult:
    number: str
    outcome: str  # found | unknown | malformed
    status: str = ""
    reason: str = ""
    next_step: str = ""
    carrier: str = ""
    service_level: str = ""
    origin_city: str = ""
    destination_city: str = ""
    destination_country: str = ""
    eta: date | None = None
    last_update: datetime | None = None
    events: list[TimelineEntry] = field(default_factory=list)  # newest first
    recipient: Recipient | None = None


def _limits() -> tuple[Limit, Limit, Limit]:
    s = get_settings()
    return (
        Limit("track-lookups", s.tracking_lookups_per_minute, 60),
        Limit("track-misses", s.tracking_misses_per_10_minutes, 600),
        Limit("track-verify", s.tracking_verify_attempts_per_hour, 3600),
    )


def partner_patterns() -> list[re.Pattern[str]]:
    """Number layouts that partner carriers claim (cached briefly: they change rarely)."""
    global _pattern_cache
    loaded_at, patterns = _pattern_cache
    if time.monotonic() - loaded_at < _PATTERN_CACHE_SECONDS:
        return patterns
    with session_scope() as db:
        raw = db.exec(
            select(Carrier.tracking_number_pattern).where(Carrier.tracking_number_pattern != "")
        ).all()
    compiled = []
    for pattern in raw:
        try:
            compiled.append(re.compile(pattern))
        except re.error:
            continue  # a bad pattern from an admin must not break tracking for everyone
    _pattern_cache = (time.monotonic(), compiled)
    return compiled


def forget_partner_patterns() -> None:
    """Drop the cached layouts (after a carrier's pattern changes, and between tests)."""
    global _pattern_cache
    _pattern_cache = (float("-inf"), [])


def lookup(raw_numbers: list[str], *, client: str) -> list[TrackingResult]:
    """Results in the order asked; raises RateLimited before revealing anything when over a limit."""
    if not raw_numbers:
        raise ValidationFailed({"numbers": "numbers_required"})
    if len(raw_numbers) > tracking.MAX_NUMBERS_PER_LOOKUP:
        raise ValidationFailed({"numbers": "too_many_numbers"})
    lookups, misses, _ = _limits()
    limiter = RateLimiter(get_redis())
    wait = limiter.hit_unless_closed(misses, lookups, client, cost=len(raw_numbers))
    if wait:
        raise RateLimited(wait)

    patterns = partner_patterns()
    parsed = [tracking.classify(raw, patterns) for raw in raw_numbers]
    wanted = [p.number for p in parsed if p.kind is not tracking.NumberKind.MALFORMED]
    found = _load(wanted)
    unknown = sum(1 for n in wanted if n not in found)
    wait = limiter.hit(misses, client, cost=unknown) if unknown else 0
    if wait:
        raise RateLimited(wait)

    results = []
    for p in parsed:
        if p.kind is tracking.NumberKind.MALFORMED:
            results.append(TrackingResult(number=p.number, outcome=MALFORMED))
        elif p.number in found:
            results.append(found[p.number])
        else:
            results.append(TrackingResult(number=p.number, outcome=UNKNOWN))
    return results


_SHIPMENT_COLUMNS = (
    Shipment.id,
    Shipment.tracking_number,
    Shipment.status,
    Shipment.status_reason,
    Shipment.service_level,
    Shipment.sender_city,
    Shipment.recipient_city,
    Shipment.recipient_country,
    Shipment.eta,
    Shipment.last_event_at,
)


@lru_cache(maxsize=2)
def _lookup_sql(many: bool) -> str:
    """The shipments with their events, newest first: one statement, compiled once.

    Built from the models, so it follows their columns; run on the driver connection, which
    prepares it once per connection. One number is compared with `=`: with `= ANY(array)`
    PostgreSQL keeps planning the prepared statement afresh on every run (it rates the
    generic plan worse for an array of unknown length), which doubled the query's cost.
    """
    wanted = bindparam("numbers", type_=ARRAY(String)) if many else bindparam("numbers")
    query = (
        select(
            *_SHIPMENT_COLUMNS,
            Tenant.name,
            Carrier.name,
            TrackingEvent.occurred_at,
            TrackingEvent.status,
            TrackingEvent.reason,
            TrackingEvent.city,
            TrackingEvent.country,
        )
        .join(Tenant, Tenant.id == Shipment.tenant_id)
        .join(CarrierAccount, CarrierAccount.id == Shipment.carrier_account_id, isouter=True)
        .join(Carrier, Carrier.id == CarrierAccount.carrier_id, isouter=True)
        .join(TrackingEvent, TrackingEvent.shipment_id == Shipment.id, isouter=True)
        .where(Shipment.tracking_number == (any_(wanted) if many else wanted))
        .order_by(
            Shipment.id,
            TrackingEvent.occurred_at.desc(),  # type: ignore[union-attr]
            TrackingEvent.recorded_at.desc(),  # type: ignore[union-attr]
        )
    )
    return str(query.compile(dialect=psycopg_dialect()))


def latest(numbers: list[str]) -> dict[str, TrackingResult]:
    """The found ones among numbers a page already showed, read again for a live refresh.

    Not rate limited and not counted: call it only with numbers a lookup() let through
    (the tracking page's refresh on a worker's push), never with numbers from a request.
    """
    return _load(numbers)


def _load(numbers: list[str]) -> dict[str, TrackingResult]:
    # Columns, not ORM objects, in one statement on an autocommit driver connection: building
    # entities (and parsing their JSONB payloads), the round trips of a transaction and a
    # second query, then SQLAlchemy's own work per execution were most of a lookup's cost.
    if not numbers:
        return {}
    with driver_autocommit() as connection:
        many = len(numbers) > 1
        wanted = numbers if many else numbers[0]
        rows = connection.execute(_lookup_sql(many), {"numbers": wanted}).fetchall()
    results: dict[str, TrackingResult] = {}
    for row in rows:
        (_, number, status, reason, service_level, origin_city, destination_city,
         destination_country, eta, last_event_at, tenant_name, carrier_name,
         occurred_at, event_status, event_reason, city, country) = row  # fmt: skip
        result = results.get(number)
        if result is None:
            step = tracking.next_step(status, reason)
            result = results[number] = TrackingResult(
                number=number,
                outcome=FOUND,
                status=status,
                reason=reason,
                next_step=step.value if step else "",
                carrier=carrier_name or tenant_name,
                service_level=service_level,
                origin_city=origin_city,
                destination_city=destination_city,
                destination_country=destination_country,
                eta=None if status in _FINAL else eta,
                last_update=last_event_at,
                events=[],
            )
        if occurred_at is not None:  # a shipment without events still has its row
            result.events.append(
                TimelineEntry(
                    occurred_at=occurred_at,
                    local_time=tracking.local_time(occurred_at, country or "HK"),
                    status=event_status,
                    reason=event_reason,
                    city=city,
                    country=country,
                )
            )
    return results


_FINAL = frozenset(
    s.value for s in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED)
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _postcode(value: str) -> str:
    return re.sub(r"\s", "", value).upper()


def factor_matches(shipment: Shipment, factor: str) -> bool:
    """Last four digits of the recipient's phone, or the recipient's postcode (when it has one)."""
    factor = factor.strip()[:20]
    if not factor:
        return False
    phone_digits = _digits(shipment.recipient_phone)
    if re.fullmatch(r"\d{4}", factor) and len(phone_digits) >= 4 and phone_digits[-4:] == factor:
        return True
    postcode = _postcode(shipment.recipient_postcode)
    return bool(postcode) and postcode == _postcode(factor)


def reveal_recipient(number: str, factor: str, *, client: str) -> Recipient:
    """The recipient's details for someone who proves a second factor; attempts are limited."""
    _, _, verify = _limits()
    limiter = RateLimiter(get_redis())
    parsed = tracking.classify(number, partner_patterns())
    # Failed attempts are limited per number (against guessing its 10,000 phone endings)
    # and per client; a right answer costs nothing.
    subjects = (f"number:{parsed.number}", f"client:{client}")
    wait = max(limiter.retry_after(verify, subject) for subject in subjects)
    if wait:
        raise RateLimited(wait)
    shipment = None
    if parsed.kind is not tracking.NumberKind.MALFORMED:  # no layout of ours: not worth a query
        with session_scope() as db:
            shipment = db.exec(
                select(Shipment).where(Shipment.tracking_number == parsed.number)
            ).first()
    if shipment is None or not factor_matches(shipment, factor):
        # An unknown number counts as a failed attempt too: otherwise "not found" versus
        # "wrong factor" would be an unthrottled oracle for which numbers exist.
        for subject in subjects:
            limiter.hit(verify, subject)
        if shipment is None:
            raise NotFound("no such shipment")
        raise ValidationFailed({"factor": "factor_mismatch"})
    return Recipient(
        name=shipment.recipient_name,
        phone=shipment.recipient_phone,
        address=shipment.recipient_address,
        city=shipment.recipient_city,
        postcode=shipment.recipient_postcode,
        country=shipment.recipient_country,
    )
