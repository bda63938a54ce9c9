"""Customers (members), shared across tenants, and their saved addresses."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import fk, id_field, timestamp_field


class Member(SQLModel, table=True):
    __tablename__ = "member"

    id: UUID = id_field()
    user_id: UUID = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    phone: str = Field(default="", max_length=20)  # E.164
    created_at: datetime = timestamp_field()


class MemberTenant(SQLModel, table=True):
    """A member's membership of one tenant (joined on first order or sign-up there)."""

    __tablename__ = "member_tenant"
    __table_args__ = (UniqueConstraint("member_id", "tenant_id", name="member_tenant_once"),)

    id: UUID = id_field()
    member_id: UUID = fk("member.id", ondelete="CASCADE")
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    joined_at: datetime = timestamp_field()


class SavedAddress(SQLModel, table=True):
    """An address-book entry a member reuses when creating orders."""

    __tablename__ = "saved_address"

    id: UUID = id_field()
    member_id: UUID = fk("member.id", ondelete="CASCADE")
    label: str = Field(max_length=40)
    name: str = Field(max_length=80)
    phone: str = Field(max_length=20)
    line1: str = Field(max_length=120)
    line2: str = Field(default="", max_length=120)
    city: str = Field(max_length=60)
    district: str = Field(default="", max_length=60)
    postcode: str = Field(default="", max_length=12)
    country: str = Field(default="HK", max_length=2)
    created_at: datetime = timestamp_field()
