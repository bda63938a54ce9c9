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
    quote_breakdown: dict = jsonb_field()
    details: dict = (
        jsonb_field()
    )  # sender, recipient, parcels as entered (before the shipment exists)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
