"""Tracking sync: hand out due parcels per carrier account, poll within each carrier's limit, apply.

dispatch_due() leases due shipments (next_poll_at moves a little ahead, so a batch
is never handed out twice) and groups them per account in batches the carrier
accepts. sync_batch() then waits for the account's shared token bucket, asks the
carrier once, and applies the answer. A 429 blocks the whole account for the
carrier's Retry-After; timeouts and 5xx feed the account's circuit breaker.
Push-only carriers are not polled: their parcels are subscribed once, and the
carrier is asked now and then to re-send what it pushed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import httpx
from sqlmodel import select

from backend.cache import get_redis
from backend.config import get_settings
from backend.db import session_scope
from backend.domain import poll_cadence
from backend.domain.statuses import FINAL_SHIPMENT_STATUSES
from backend.integrations.carriers import registry
from backend.integrations.carriers.base import (
    CarrierAdapter,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    Credentials,
)
from backend.models import Carrier, CarrierAccount, Shipment, Tenant
from backend.models.base import utcnow
from backend.services import secrets, shipment_events
from backend.services.carrier_metrics import CarrierMetrics
from backend.services.carrier_throttle import TokenBucket
from backend.services.circuit_breaker import CircuitBreaker

LEASE = timedelta(minutes=2)  # a handed-out batch is not handed out again before this
BREAKER_RETRY = timedelta(seconds=30)
MAX_TOKEN_WAIT_SECONDS = 20.0
# No burst: requests go out at most one every 1/rate seconds. A bucket holding a second's worth
# would, after a lull, send a second's worth at once and another in the same second (19 or 20
# within one second at 10/s), past a limit that a carrier counts over any sliding second.
TOKEN_CAPACITY = 1.0
_FINAL = [s.value for s in FINAL_SHIPMENT_STATUSES]


@dataclass(frozen=True)
class Batch:
    account_id: UUID
    shipment_ids: list[UUID]


@dataclass
class SyncOutcome:
    polled: int = 0
    outcome: str = "ok"  # ok | rate_limited | unavailable | breaker_open | no_token | rejected
    retry_after: float = 0.0
    applied: shipment_events.ApplyOutcome = field(default_factory=shipment_events.ApplyOutcome)


@dataclass(frozen=True)
class AccountContext:
    account_id: UUID
    tenant_id: UUID
    tenant_slug: str
    carrier_slug: str
    rate_per_second: float
    adapter: CarrierAdapter
    creds: Credentials


def secret_scope(account_id: UUID) -> str:
    return f"carrier_account:{account_id}"


def account_context(account_id: UUID) -> AccountContext:
    with session_scope() as db:
        account, carrier, tenant = db.exec(
            select(CarrierAccount, Carrier, Tenant)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .join(Tenant, Tenant.id == CarrierAccount.tenant_id)
            .where(CarrierAccount.id == account_id)
        ).one()
    scope = secret_scope(account.id)
    creds = Credentials(
        base_url=account.base_url,
        api_key=secrets.get_secret(tenant.id, scope, "api_key") or "",
        webhook_secret=secrets.get_secret(tenant.id, scope, "webhook_secret") or "",
    )
    return AccountContext(
        account.id,
        tenant.id,
        tenant.slug,
        carrier.slug,
        account.rate_limit_per_second,
        registry.get_adapter(carrier.slug),
        creds,
    )


def dispatch_due(limit: int | None = None) -> list[Batch]:
    """Lease the shipments due for a poll and group them into per-account batches."""
    limit = limit or get_settings().tracking_dispatch_limit
    now = utcnow()
    with session_scope() as db:
        rows = db.exec(
            select(Shipment.id, Shipment.carrier_account_id, Carrier.slug)
            .join(CarrierAccount, CarrierAccount.id == Shipment.carrier_account_id)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .where(
                CarrierAccount.is_active,
                Shipment.status.not_in(_FINAL),  # type: ignore[attr-defined]
                # NULL: nothing scheduled (not booked with a carrier yet, or a final status).
                Shipment.next_poll_at <= now,  # type: ignore[operator]
            )
            .order_by(Shipment.next_poll_at.asc())  # type: ignore[union-attr]
            .limit(limit)
            .with_for_update(of=Shipment, skip_locked=True)  # two dispatchers never share a row
        ).all()
        ids = [row[0] for row in rows]
        if ids:
            for shipment in db.exec(select(Shipment).where(Shipment.id.in_(ids))):  # type: ignore[attr-defined]
                shipment.next_poll_at = now + LEASE
                db.add(shipment)
    per_account: dict[tuple[UUID, str], list[UUID]] = {}
    for shipment_id, account_id, slug in rows:
        per_account.setdefault((account_id, slug), []).append(shipment_id)
    batches = []
    for (account_id, slug), shipment_ids in per_account.items():
        size = registry.get_adapter(slug).capabilities.batch_size or 50  # push: subscriptions
        batches += [
            Batch(account_id, shipment_ids[i : i + size]) for i in range(0, len(shipment_ids), size)
        ]
    return batches


def _numbers(shipment_ids: list[UUID]) -> list[str]:
    with session_scope() as db:
        shipments = db.exec(
            select(Shipment).where(
                Shipment.id.in_(shipment_ids),  # type: ignore[attr-defined]
                Shipment.status.not_in(_FINAL),  # type: ignore[attr-defined]
            )
        ).all()
        return [s.carrier_reference or s.tracking_number for s in shipments]


def _postpone(shipment_ids: list[UUID], delay: timedelta) -> None:
    with session_scope() as db:
        for shipment in db.exec(select(Shipment).where(Shipment.id.in_(shipment_ids))):  # type: ignore[attr-defined]
            shipment.next_poll_at = utcnow() + delay
            db.add(shipment)


def callback_url(ctx: AccountContext) -> str:
    return f"{get_settings().base_url}/webhooks/carriers/{ctx.carrier_slug}/{ctx.tenant_slug}"


def sync_batch(
    account_id: UUID, shipment_ids: list[UUID], *, client: httpx.Client | None = None
) -> SyncOutcome:
    """One carrier request for a batch (or subscriptions, for push carriers), within the limits."""
    ctx = account_context(account_id)
    numbers = _numbers(shipment_ids)
    result = SyncOutcome()
    if not numbers:
        return result
    redis = get_redis()
    key = str(account_id)
    breaker, metrics = CircuitBreaker(redis), CarrierMetrics(redis)
    if not breaker.allow(key):
        _postpone(shipment_ids, BREAKER_RETRY)
        result.outcome = "breaker_open"
        return result
    client = client or _process_client()
    if ctx.adapter.capabilities.polls:
        return _poll(ctx, numbers, shipment_ids, client, breaker, metrics, result)
    return _subscribe(ctx, numbers, shipment_ids, client, breaker, metrics, result)


_client: httpx.Client | None = None


def _process_client() -> httpx.Client:
    """One client per worker process, made on first use (after the fork): carriers' connections
    are kept alive between batches, and its TLS context is built once, not for every batch
    (tens of milliseconds of CPU each time)."""
    global _client
    if _client is None:
        _client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
    return _client


def _take_token(ctx: AccountContext) -> bool:
    bucket = TokenBucket(get_redis())
    rate = ctx.rate_per_second
    return bucket.acquire(str(ctx.account_id), rate, TOKEN_CAPACITY, MAX_TOKEN_WAIT_SECONDS)


def _poll(ctx, numbers, shipment_ids, client, breaker, metrics, result: SyncOutcome) -> SyncOutcome:
    key = str(ctx.account_id)
    if not _take_token(ctx):
        result.outcome = "no_token"  # the caller retries; the lease keeps the batch ours meanwhile
        return result
    try:
        answers = ctx.adapter.track(numbers, ctx.creds, client)
    except CarrierRateLimited as limited:
        TokenBucket(get_redis()).block(key, limited.retry_after)
        metrics.record(key, "rate_limited")
        result.outcome, result.retry_after = "rate_limited", limited.retry_after
        return result
    except CarrierUnavailable as failure:
        breaker.record_failure(key)
        metrics.record(key, "timeout" if "timed out" in str(failure).lower() else "error")
        result.outcome = "unavailable"
        return result
    except CarrierRejected:
        metrics.record(key, "error")
        result.outcome = "rejected"
        return result
    breaker.record_success(key)
    metrics.record(key, "ok")
    result.polled = len(numbers)
    events = [event for answer in answers for event in answer.events]
    result.applied = shipment_events.apply_events(
        ctx.tenant_id, ctx.carrier_slug, events, source="poll", carrier_account_id=ctx.account_id
    )
    quiet = {answer.tracking_number for answer in answers if not answer.events}
    if quiet:
        _reschedule_quiet(shipment_ids, quiet)
    _touch_account(ctx.account_id)
    return result


def _reschedule_quiet(shipment_ids: list[UUID], numbers: set[str]) -> None:
    """Parcels the answer said nothing about (not found yet, left out, unreadable) wait for their
    usual cadence; apply_events never touched them, so they would come back when the lease ends,
    and numbers a carrier does not know would spend its limit every two minutes."""
    now, unit = utcnow(), get_settings().tracking_poll_unit_seconds
    with session_scope() as db:
        shipments = db.exec(
            select(Shipment)
            .where(Shipment.id.in_(shipment_ids))  # type: ignore[attr-defined]
            .order_by(Shipment.id)  # the lock order of apply_events: no deadlock between them
            .with_for_update()
        )
        for shipment in shipments:
            if (shipment.carrier_reference or shipment.tracking_number) in numbers:
                shipment.next_poll_at = poll_cadence.next_poll_at(
                    shipment.status, shipment.last_event_at, now, unit
                )
                db.add(shipment)


def _subscribe(
    ctx, numbers, shipment_ids, client, breaker, metrics, result: SyncOutcome
) -> SyncOutcome:
    key = str(ctx.account_id)
    for number in numbers:
        if not _take_token(ctx):
            result.outcome = "no_token"
            return result
        try:
            ctx.adapter.subscribe(number, callback_url(ctx), ctx.creds, client)
        except CarrierRateLimited as limited:
            TokenBucket(get_redis()).block(key, limited.retry_after)
            metrics.record(key, "rate_limited")
            result.outcome, result.retry_after = "rate_limited", limited.retry_after
            return result
        except CarrierUnavailable:
            breaker.record_failure(key)
            metrics.record(key, "error")
            result.outcome = "unavailable"
            return result
        metrics.record(key, "ok")
        breaker.record_success(key)
        result.polled += 1
    # Subscribed: the carrier pushes from now on; look again only as a safety net.
    _postpone(shipment_ids, timedelta(seconds=get_settings().tracking_poll_unit_seconds * 240))
    _touch_account(ctx.account_id)
    return result


def request_resends(since: timedelta = timedelta(minutes=15)) -> int:
    """Ask every push-only account to push again what it sent lately (lost pushes come back)."""
    with session_scope() as db:
        accounts = db.exec(
            select(CarrierAccount.id, Carrier.slug)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .where(CarrierAccount.is_active, Carrier.api_style == "push")
        ).all()
    queued = 0
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0)) as client:
        for account_id, slug in accounts:
            if not registry.get_adapter(slug).capabilities.can_resend:
                continue
            ctx = account_context(account_id)
            try:
                queued += ctx.adapter.request_resend(utcnow() - since, ctx.creds, client)
            except (CarrierUnavailable, CarrierRateLimited, CarrierRejected):
                CarrierMetrics(get_redis()).record(str(account_id), "error")
    return queued


def _touch_account(account_id: UUID) -> None:
    with session_scope() as db:
        account = db.get(CarrierAccount, account_id)
        if account is not None:
            account.last_sync_at = utcnow()
            db.add(account)
