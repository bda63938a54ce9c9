"""Shipments, their parcels and their tracking events (the order fulfilment record)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.domain.statuses import ShipmentStatus
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    __table_args__ = (
        enum_check("status", ShipmentStatus, "shipment_status"),
        UniqueConstraint("source_id", "external_id", name="shipment_source_external"),
        Index("shipment_tenant_created", "tenant_id", "created_at"),
        Index(
            "shipment_due_for_sync",
            "carrier_account_id",
            "next_poll_at",
            postgresql_where=text("status NOT IN ('delivered', 'returned', 'cancelled')"),
        ),
        Index("shipment_recipient_member", "recipient_member_id", "created_at"),
        Index("shipment_sender_member", "sender_member_id", "created_at"),
        CheckConstraint("version > 0", name="shipment_version_positive"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    tracking_number: str = Field(max_length=40, unique=True, index=True)
    order_id: UUID | None = fk("order.id", nullable=True)
    sender_member_id: UUID | None = fk("member.id", nullable=True, index=False)
    recipient_member_id: UUID | None = fk("member.id", nullable=True, index=False)

    sender_name: str = Field(max_length=80)
    sender_phone: str = Field(max_length=20)
    sender_address: str = Field(max_length=250)
    sender_city: str = Field(max_length=60)
    sender_postcode: str = Field(default="", max_length=12)
    sender_country: str = Field(default="HK", max_length=2)
    recipient_name: str = Field(max_length=80)
    recipient_phone: str = Field(max_length=20)
    recipient_address: str = Field(max_length=250)
    recipient_city: str = Field(max_length=60)
    recipient_postcode: str = Field(default="", max_length=12)
    recipient_country: str = Field(default="HK", max_length=2)

    service_level: str = Field(default="standard", max_length=20)
    carrier_account_id: UUID | None = fk("carrier_account.id", nullable=True, index=False)
    carrier_reference: str = Field(default="", max_length=60)
    status: str = Field(default=ShipmentStatus.PENDING.value, max_length=20)
    status_reason: str = Field(default="", max_length=40)
    eta: date | None = None
    last_event_at: datetime | None = timestamp_field(nullable=True)
    next_poll_at: datetime | None = timestamp_field(nullable=True)

    source_id: UUID | None = fk("upstream_source.id", nullable=True, index=False)
    external_id: str | None = Field(default=None, max_length=120)
    raw_payload: dict = jsonb_field()
    version: int = 1  # optimistic lock: writers update WHERE version = the version they read
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class Parcel(SQLModel, table=True):
    __tablename__ = "parcel"
    __table_args__ = (
        CheckConstraint("weight_grams > 0", name="parcel_weight_positive"),
        CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="parcel_dimensions_positive"
        ),
        CheckConstraint("declared_value_minor >= 0", name="parcel_declared_value"),
    )

    id: UUID = id_field()
    shipment_id: UUID = fk("shipment.id", ondelete="CASCADE")
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    contents: str = Field(default="", max_length=200)
    declared_value_minor: int = 0
    currency: str = Field(default="HKD", max_length=3)


class TrackingEvent(SQLModel, table=True):
    """One thing a carrier said about a shipment; deduplicated per (shipment, dedupe key)."""

    __tablename__ = "tracking_event"
    __table_args__ = (
        enum_check("status", ShipmentStatus, "tracking_event_status"),
        UniqueConstraint("shipment_id", "dedupe_key", name="tracking_event_once"),
        Index("tracking_event_timeline", "shipment_id", "occurred_at"),
        Index(
            "tracking_event_unknown_codes",
            "tenant_id",
            "recorded_at",
            postgresql_where=text("status = 'unknown'"),
        ),
        CheckConstraint(
            "source IN ('poll', 'push', 'manual', 'upstream', 'order')", name="event_source"
        ),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    shipment_id: UUID = fk("shipment.id", ondelete="CASCADE", index=False)
    occurred_at: datetime = timestamp_field()
    recorded_at: datetime = timestamp_field()
    status: str = Field(max_length=20)
    reason: str = Field(default="", max_length=40)
    raw_code: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=300)
    city: str = Field(default="", max_length=60)
    country: str = Field(default="", max_length=2)
    source: str = Field(default="poll", max_length=10)
    dedupe_key: str = Field(max_length=120)
    raw: dict = jsonb_field()
