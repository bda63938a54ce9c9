"""Loyalty: each tenant's programme rules, members' accounts, and the append-only points ledger."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.domain.statuses import LedgerKind
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field


class LoyaltyProgramme(SQLModel, table=True):
    __tablename__ = "loyalty_programme"
    __table_args__ = (
        CheckConstraint("points_per_currency_unit >= 0", name="programme_earn_rate"),
        CheckConstraint("point_value_minor > 0", name="programme_point_value"),
        CheckConstraint("expiry_days > 0", name="programme_expiry"),
    )

    id: UUID = id_field()
    tenant_id: UUID = Field(foreign_key="tenant.id", unique=True, ondelete="CASCADE")
    points_per_currency_unit: int = 1  # points earned per whole unit paid (e.g. per HKD 1)
    point_value_minor: int = 10  # what one point is worth at checkout, in minor units
    expiry_days: int = 365
    max_redeem_percent: int = 50
    tiers: dict = jsonb_field()  # {"silver": 1000, "gold": 5000}: lifetime points to reach
    updated_at: datetime = timestamp_field()


class LoyaltyAccount(SQLModel, table=True):
    __tablename__ = "loyalty_account"
    __table_args__ = (
        UniqueConstraint("member_id", "tenant_id", name="loyalty_account_once"),
        CheckConstraint("balance >= 0", name="loyalty_balance_nonnegative"),
        CheckConstraint("pending >= 0", name="loyalty_pending_nonnegative"),
    )

    id: UUID = id_field()
    member_id: UUID = fk("member.id", ondelete="CASCADE")
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    balance: int = 0  # always equals the sum of the account's settled ledger entries
    pending: int = 0  # earned on shipments not yet delivered
    lifetime_points: int = 0
    tier: str = Field(default="member", max_length=20)
    created_at: datetime = timestamp_field()


class LoyaltyEntry(SQLModel, table=True):
    """One ledger line. Unique per (kind, cause) so a replayed cause adds nothing."""

    __tablename__ = "loyalty_entry"
    __table_args__ = (
        enum_check("kind", LedgerKind, "loyalty_entry_kind"),
        UniqueConstraint("account_id", "kind", "cause_type", "cause_id", name="loyalty_entry_once"),
        Index("loyalty_entry_account_created", "account_id", "created_at"),
        CheckConstraint("points <> 0", name="loyalty_entry_nonzero"),
    )

    id: UUID = id_field()
    account_id: UUID = fk("loyalty_account.id", ondelete="CASCADE", index=False)
    kind: str = Field(max_length=12)
    points: int  # signed: earn > 0, redeem/expire/reverse < 0
    cause_type: str = Field(max_length=20)  # payment, refund, order, staff_adjustment, expiry
    cause_id: str = Field(max_length=80)
    expires_at: datetime | None = timestamp_field(nullable=True)
    note: str = Field(default="", max_length=200)
    details: dict = jsonb_field()
    created_at: datetime = timestamp_field()
