"""A paid order becomes a shipment: routed to a carrier that serves the lane, numbered, scheduled.

Routing reads the carriers' declared lanes (carrier_capability): the service level,
the countries, the heaviest and longest parcel each can take; among the tenant's
active accounts that fit, the cheapest for this order's weight wins. The tracking
number is ours (S10, the tenant's prefix, a random serial: a number alone says
nothing about how many parcels we carry), and the first poll is due at once.
"""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
from uuid import UUID

from sqlmodel import Session, select

from backend.domain import tracking_number
from backend.domain.statuses import ShipmentStatus
from backend.models import (
    Carrier,
    CarrierAccount,
    CarrierCapability,
    Order,
    Parcel,
    Shipment,
    Tenant,
    TrackingEvent,
)
from backend.models.base import utcnow

# Serials starting with 99 are the sandbox carriers' "unknown parcel" range; ours stay below.
_SERIAL_LOW, _SERIAL_HIGH = 30_000_000, 98_999_999


def _route(db: Session, order: Order) -> tuple[UUID | None, int]:
    """(carrier account, transit days) of the cheapest lane that takes every parcel."""
    details = order.details
    parcels = details.get("parcels", [])
    heaviest = max((p["weight_grams"] for p in parcels), default=0)
    longest = max((max(p["length_mm"], p["width_mm"], p["height_mm"]) for p in parcels), default=0)
    total_kg = math.ceil(sum(p["weight_grams"] for p in parcels) / 1000)
    rows = db.exec(
        select(CarrierAccount.id, CarrierCapability)
        .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
        .join(CarrierCapability, CarrierCapability.carrier_id == Carrier.id)
        .where(
            CarrierAccount.tenant_id == order.tenant_id,
            CarrierAccount.is_active,
            CarrierCapability.service_level == order.service_level,
            CarrierCapability.origin_region == details["sender"]["country"],
            CarrierCapability.destination_region == details["recipient"]["country"],
            CarrierCapability.max_weight_grams >= heaviest,
            CarrierCapability.max_length_mm >= longest,
        )
    ).all()
    if not rows:
        return None, 2  # staff assign a carrier by hand (the shipment shows as pending)
    account_id, lane = min(rows, key=lambda r: r[1].base_price_minor + r[1].per_kg_minor * total_kg)
    return account_id, lane.transit_days


def create_shipment(db: Session, order: Order) -> Shipment:
    """The shipment for a paid order (once: an order that has one gets it back)."""
    existing = db.exec(select(Shipment).where(Shipment.order_id == order.id)).first()
    if existing is not None:
        return existing
    tenant = db.get(Tenant, order.tenant_id)
    assert tenant is not None
    account_id, transit_days = _route(db, order)
    sender, recipient = order.details["sender"], order.details["recipient"]
    now = utcnow()
    number = _free_number(db, tenant.tracking_prefix)
    shipment = Shipment(
        tenant_id=order.tenant_id,
        tracking_number=number,
        order_id=order.id,
        sender_member_id=order.member_id,
        sender_name=sender["name"],
        sender_phone=sender["phone"],
        sender_address=", ".join(
            x for x in (sender["line1"], sender["line2"], sender["district"]) if x
        )[:250],
        sender_city=sender["city"],
        sender_postcode=sender["postcode"],
        sender_country=sender["country"],
        recipient_name=recipient["name"],
        recipient_phone=recipient["phone"],
        recipient_address=", ".join(
            x for x in (recipient["line1"], recipient["line2"], recipient["district"]) if x
        )[:250],
        recipient_city=recipient["city"],
        recipient_postcode=recipient["postcode"],
        recipient_country=recipient["country"],
        service_level=order.service_level,
        carrier_account_id=account_id,
        status=ShipmentStatus.PENDING.value,
        eta=(now + timedelta(days=transit_days + 1)).date(),
        next_poll_at=now if account_id else None,
        raw_payload={"source": "order", "order_reference": order.reference},
        created_at=now,
        updated_at=now,
        last_event_at=now,
    )
    db.add(shipment)
    db.flush()
    for p in order.details.get("parcels", []):
        db.add(
            Parcel(
                shipment_id=shipment.id,
                weight_grams=p["weight_grams"],
                length_mm=p["length_mm"],
                width_mm=p["width_mm"],
                height_mm=p["height_mm"],
                contents=p.get("contents", ""),
                declared_value_minor=p.get("declared_value_minor", 0),
                currency=order.currency,
            )
        )
    db.add(
        TrackingEvent(
            tenant_id=order.tenant_id,
            shipment_id=shipment.id,
            occurred_at=now,
            recorded_at=now,
            status=ShipmentStatus.PENDING.value,
            raw_code="ORDER_PAID",
            description="Order paid; shipment information received",
            city=sender["city"],
            country=sender["country"],
            source="order",
            dedupe_key=f"order-{order.id}",
        )
    )
    return shipment


def _free_number(db: Session, prefix: str) -> str:
    for _ in range(20):
        number = tracking_number.make(
            prefix, secrets.randbelow(_SERIAL_HIGH - _SERIAL_LOW) + _SERIAL_LOW
        )
        if db.exec(select(Shipment.id).where(Shipment.tracking_number == number)).first() is None:
            return number
    raise RuntimeError("no free tracking number after 20 tries")
