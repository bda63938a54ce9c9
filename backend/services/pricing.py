"""Quotes for a tenant: its stored rate card read by domain.pricing, cached per process briefly."""

from __future__ import annotations

import time
from uuid import UUID

from sqlmodel import Session, select

from backend.db import session_scope
from backend.domain.order_form import OrderForm
from backend.domain.pricing import (
    ParcelSize,
    Quote,
    RateCard,
    parse_rate_card,
    quote,
    service_levels,
)
from backend.models import TenantRateCard
from backend.models.base import utcnow
from backend.services.errors import NotFound

_CACHE_SECONDS = 30.0  # an admin's change reaches every process within this
_cache: dict[UUID, tuple[float, RateCard]] = {}


def rate_card(tenant_id: UUID) -> RateCard:
    cached = _cache.get(tenant_id)
    if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    with session_scope() as db:
        row = db.exec(select(TenantRateCard).where(TenantRateCard.tenant_id == tenant_id)).first()
    if row is None:
        raise NotFound("this tenant has no rate card yet")
    card = parse_rate_card(row.definition)
    _cache[tenant_id] = (time.monotonic(), card)
    return card


def save_rate_card(db: Session, tenant_id: UUID, definition: dict) -> None:
    """Store a card after checking it (RateCardError says what is wrong)."""
    parse_rate_card(definition)
    row = db.exec(select(TenantRateCard).where(TenantRateCard.tenant_id == tenant_id)).first()
    if row is None:
        row = TenantRateCard(tenant_id=tenant_id, definition=definition)
    row.definition, row.updated_at = definition, utcnow()
    db.add(row)
    _cache.pop(tenant_id, None)


def quote_form(tenant_id: UUID, form: OrderForm) -> Quote:
    """The price of a checked order form; NotServed says why there is none."""
    assert form.sender and form.recipient, "quote only a form without errors"
    return quote(
        rate_card(tenant_id),
        service_level=form.service_level,
        origin=form.sender.country,
        destination=form.recipient.country,
        region=form.recipient.city,
        parcels=[
            ParcelSize(p.weight_grams, p.length_mm, p.width_mm, p.height_mm) for p in form.parcels
        ],
        declared_value_minor=form.declared_value_minor,
        insured=form.insured,
    )


def offered_services(tenant_id: UUID, origin: str, destination: str, city: str) -> list[str]:
    return service_levels(rate_card(tenant_id), origin, destination, city)
