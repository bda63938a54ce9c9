"""Merchant API keys and the audit log of every staff and admin action."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from backend.models.base import fk, id_field, jsonb_field, timestamp_field


class ApiKey(SQLModel, table=True):
    """A merchant's key: shown once at creation; we keep its prefix and SHA-256 only."""

    __tablename__ = "api_key"

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    name: str = Field(max_length=60)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: list = jsonb_field(list)
    created_by: UUID | None = fk("user_account.id", nullable=True, index=False)
    created_at: datetime = timestamp_field()
    last_used_at: datetime | None = timestamp_field(nullable=True)
    revoked_at: datetime | None = timestamp_field(nullable=True)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_tenant_created", "tenant_id", "created_at"),)

    id: UUID = id_field()
    tenant_id: UUID | None = fk("tenant.id", nullable=True, index=False)
    actor_user_id: UUID | None = fk("user_account.id", nullable=True)
    action: str = Field(max_length=60)
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=80)
    details: dict = jsonb_field()
    ip: str = Field(default="", max_length=64)
    created_at: datetime = timestamp_field()
