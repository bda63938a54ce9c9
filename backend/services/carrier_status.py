"""What staff see per carrier account: load against its limit, 429s, errors, breaker, unknown codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from backend.cache import get_redis
from backend.db import session_scope
from backend.domain.roles import Permission
from backend.domain.statuses import FINAL_SHIPMENT_STATUSES, ShipmentStatus
from backend.models import Carrier, CarrierAccount, Shipment, TrackingEvent
from backend.models.base import utcnow
from backend.services.access import Principal
from backend.services.carrier_metrics import CarrierMetrics
from backend.services.circuit_breaker import CircuitBreaker
from backend.services.tenants import scoped_tenant

UNKNOWN_CODES_SINCE = timedelta(days=30)


@dataclass(frozen=True)
class UnknownCode:
    raw_code: str
    events: int
    last_seen: datetime


@dataclass(frozen=True)
class AccountStatus:
    carrier: str
    carrier_slug: str
    account: str
    api_style: str
    rate_limit_per_second: float
    requests_per_second: float  # over the last minute
    peak_per_second: int  # busiest single second of the last minute
    ok: int
    rate_limited: int
    errors: int
    timeouts: int
    breaker: str
    last_sync_at: datetime | None
    active_shipments: int
    unknown_codes: list[UnknownCode] = field(default_factory=list)


def carrier_overview(principal: Principal | None, tenant_slug: str) -> list[AccountStatus]:
    tenant = scoped_tenant(principal, tenant_slug, Permission.VIEW_SHIPMENTS)
    redis = get_redis()
    metrics, breaker = CarrierMetrics(redis), CircuitBreaker(redis)
    final = [s.value for s in FINAL_SHIPMENT_STATUSES]
    with session_scope() as db:
        accounts = db.exec(
            select(CarrierAccount, Carrier)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
            .where(CarrierAccount.tenant_id == tenant)
            .order_by(Carrier.name, CarrierAccount.name)
        ).all()
        active = dict(
            db.exec(
                select(Shipment.carrier_account_id, func.count())
                .where(Shipment.tenant_id == tenant, Shipment.status.not_in(final))  # type: ignore[attr-defined]
                .group_by(Shipment.carrier_account_id)
            ).all()
        )
        unknown_rows = db.exec(
            select(
                Shipment.carrier_account_id,
                TrackingEvent.raw_code,
                func.count(),
                func.max(TrackingEvent.recorded_at),
            )
            .join(Shipment, Shipment.id == TrackingEvent.shipment_id)
            .where(
                TrackingEvent.tenant_id == tenant,
                TrackingEvent.status == ShipmentStatus.UNKNOWN.value,
                TrackingEvent.recorded_at >= utcnow() - UNKNOWN_CODES_SINCE,
            )
            .group_by(Shipment.carrier_account_id, TrackingEvent.raw_code)
            .order_by(func.count().desc())
        ).all()
    unknown: dict = {}
    for account_id, raw_code, count, last_seen in unknown_rows:
        unknown.setdefault(account_id, []).append(UnknownCode(raw_code, count, last_seen))
    overview = []
    for account, carrier in accounts:
        key = str(account.id)
        summary = metrics.summary(key, window_seconds=60)
        counts = summary["counts"]
        overview.append(
            AccountStatus(
                carrier=carrier.name,
                carrier_slug=carrier.slug,
                account=account.name,
                api_style=carrier.api_style,
                rate_limit_per_second=account.rate_limit_per_second,
                requests_per_second=summary["requests_per_second"],
                peak_per_second=summary["peak"],
                ok=counts.get("ok", 0),
                rate_limited=counts.get("rate_limited", 0),
                errors=counts.get("error", 0),
                timeouts=counts.get("timeout", 0),
                breaker=breaker.state(key),
                last_sync_at=account.last_sync_at,
                active_shipments=active.get(account.id, 0),
                unknown_codes=unknown.get(account.id, []),
            )
        )
    return overview
