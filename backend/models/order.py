"""Customers' shipping orders with their quote, discount and payment state."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.domain.statuses import OrderStatus
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field


class Order(SQLModel, table=True):
    __tablename__ = "order"
    __table_args__ = (
        enum_check("status", OrderStatus, "order_status"),
        UniqueConstraint("tenant_id", "reference", name="order_reference"),
        Index("order_tenant_created", "tenant_id", "created_at"),
        Index("order_member_created", "member_id", "created_at"),
        CheckConstraint("quote_minor >= 0", name="order_quote_nonnegative"),
        CheckConstraint(
            "discount_minor >= 0 AND discount_minor <= quote_minor", name="order_discount"
        ),
        CheckConstraint("total_minor = quote_minor - discount_minor", name="order_total"),
        CheckConstraint("points_redeemed >= 0", name="order_points_nonnegative"),
        CheckConstraint("member_id IS NOT NULL OR guest_email <> ''", name="order_has_customer"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    reference: str = Field(max_length=20)
    member_id: UUID | None = fk("member.id", nullable=True, index=False)
    guest_email: str = Field(default="", max_length=254)
    status: str = Field(default=OrderStatus.DRAFT.value, max_length=20)
    currency: str = Field(max_length=3)
    quote_minor: int
    discount_minor: int = 0
    points_redeemed: int = 0
    total_minor: int
    service_level: str = Field(default="standard", max_length=20)
    quote_breakdown: dict = jsonb_field()
    # Sender, recipient and parcels as entered (normalized), until the shipment exists.
    details: dict = jsonb_field()
    # A guest reaches their order with a secret kept in their browser; only its SHA-256 is here.
    access_token_hash: str = Field(default="", max_length=64)
    paid_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class TenantRateCard(SQLModel, table=True):
    """A tenant's price rules (zones, weight breaks, surcharges), checked by domain.pricing on save."""

    __tablename__ = "tenant_rate_card"

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE", index=False)
    definition: dict = jsonb_field()
    updated_at: datetime = timestamp_field()

    __table_args__ = (UniqueConstraint("tenant_id", name="rate_card_one_per_tenant"),)
