"""Carriers, each tenant's accounts with them, and what each carrier can carry (the resource centre)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import fk, id_field, jsonb_field, timestamp_field


class Carrier(SQLModel, table=True):
    __tablename__ = "carrier"
    __table_args__ = (
        CheckConstraint("api_style IN ('rest_json', 'xml', 'push')", name="carrier_api_style"),
    )

    id: UUID = id_field()
    slug: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    api_style: str = Field(max_length=10)
    tracking_number_pattern: str = Field(default="", max_length=120)  # numbers this carrier claims
    created_at: datetime = timestamp_field()


class CarrierAccount(SQLModel, table=True):
    """A tenant's contract with a carrier: base URL, rate limit; credentials live in tenant_secret."""

    __tablename__ = "carrier_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "carrier_id", "name", name="carrier_account_name"),
        CheckConstraint("rate_limit_per_second > 0", name="carrier_account_rate_positive"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    carrier_id: UUID = fk("carrier.id")
    name: str = Field(max_length=60)
    base_url: str = Field(max_length=300)
    rate_limit_per_second: float = 10.0
    is_active: bool = True
    last_sync_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


class CarrierCapability(SQLModel, table=True):
    """One lane a carrier serves: service level, regions, limits and price (drives routing)."""

    __tablename__ = "carrier_capability"
    __table_args__ = (
        CheckConstraint("max_weight_grams > 0", name="capability_weight_positive"),
        CheckConstraint("max_length_mm > 0", name="capability_length_positive"),
        CheckConstraint("base_price_minor >= 0 AND per_kg_minor >= 0", name="capability_price"),
    )

    id: UUID = id_field()
    carrier_id: UUID = fk("carrier.id", ondelete="CASCADE")
    service_level: str = Field(max_length=20)  # standard, express, economy
    origin_region: str = Field(max_length=10)
    destination_region: str = Field(max_length=10)
    max_weight_grams: int
    max_length_mm: int
    base_price_minor: int
    per_kg_minor: int
    currency: str = Field(default="HKD", max_length=3)
    transit_days: int = 2
    surcharges: dict = jsonb_field()
