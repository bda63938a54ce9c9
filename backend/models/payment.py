"""Payments and refunds through the tenant's PSPs; states only move forward."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.domain.statuses import PaymentStatus, RefundStatus
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field

PROVIDERS = ("stripe", "adyen", "checkout", "paypal", "wechatpay", "alipay")
_PROVIDER_CHECK = "provider IN (" + ", ".join(f"'{p}'" for p in PROVIDERS) + ")"


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        enum_check("status", PaymentStatus, "payment_status"),
        CheckConstraint(_PROVIDER_CHECK, name="payment_provider"),
        UniqueConstraint("provider", "provider_reference", name="payment_provider_reference"),
        Index("payment_tenant_created", "tenant_id", "created_at"),
        CheckConstraint("amount_minor > 0", name="payment_amount_positive"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="payment_refund_bounds"
        ),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    order_id: UUID = fk("order.id")
    provider: str = Field(max_length=12)
    provider_reference: str | None = Field(default=None, max_length=120)
    idempotency_key: str = Field(max_length=80, unique=True)  # stored before the outbound call
    amount_minor: int
    refunded_minor: int = 0
    currency: str = Field(max_length=3)
    status: str = Field(default=PaymentStatus.CREATED.value, max_length=12)
    failure_reason: str = Field(default="", max_length=300)
    provider_data: dict = jsonb_field()
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class Refund(SQLModel, table=True):
    __tablename__ = "refund"
    __table_args__ = (
        enum_check("status", RefundStatus, "refund_status"),
        CheckConstraint("amount_minor > 0", name="refund_amount_positive"),
        Index("refund_tenant_created", "tenant_id", "created_at"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    payment_id: UUID = fk("payment.id")
    amount_minor: int
    currency: str = Field(max_length=3)
    status: str = Field(default=RefundStatus.REQUESTED.value, max_length=12)
    provider_reference: str | None = Field(default=None, max_length=120)
    idempotency_key: str = Field(max_length=80, unique=True)
    reason: str = Field(default="", max_length=300)
    requested_by: UUID | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class PaymentProviderAccount(SQLModel, table=True):
    """A tenant's account with one PSP: where its API is and what is not secret (secrets: tenant_secret)."""

    __tablename__ = "payment_provider_account"
    __table_args__ = (
        CheckConstraint(_PROVIDER_CHECK, name="provider_account_provider"),
        UniqueConstraint("tenant_id", "provider", name="provider_account_once"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE", index=False)
    provider: str = Field(max_length=12)
    enabled: bool = True
    position: int = 0  # order at checkout
    api_base: str = Field(max_length=300)
    settings: dict = jsonb_field()
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class ReconciliationIssue(SQLModel, table=True):
    """A disagreement between our books and a provider's, found by the reconciler, for staff."""

    __tablename__ = "reconciliation_issue"
    __table_args__ = (
        Index(
            "reconciliation_open",
            "tenant_id",
            "detected_at",
            postgresql_where=text("resolved_at IS NULL"),
        ),
        UniqueConstraint(
            "payment_id",
            "refund_id",
            "kind",
            "theirs",
            name="reconciliation_once",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    payment_id: UUID = fk("payment.id")
    refund_id: UUID | None = fk("refund.id", nullable=True, index=False)
    kind: str = Field(max_length=30)  # status, amount, refunded, unknown_refund
    ours: str = Field(default="", max_length=120)
    theirs: str = Field(default="", max_length=120)
    detected_at: datetime = timestamp_field()
    resolved_at: datetime | None = timestamp_field(nullable=True)
