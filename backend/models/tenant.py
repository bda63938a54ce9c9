"""Tenants (business lines or brands) with their branding and encrypted integration secrets."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import fk, id_field, jsonb_field, timestamp_field


class Tenant(SQLModel, table=True):
    __tablename__ = "tenant"
    __table_args__ = (
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'", name="tenant_slug_format"),
        CheckConstraint("primary_color ~ '^#[0-9a-fA-F]{6}$'", name="tenant_primary_color"),
        CheckConstraint("accent_color ~ '^#[0-9a-fA-F]{6}$'", name="tenant_accent_color"),
        CheckConstraint("default_locale IN ('en', 'zh-HK')", name="tenant_default_locale"),
    )

    id: UUID = id_field()
    slug: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    name_zh: str = Field(default="", max_length=120)
    tagline: str = Field(default="", max_length=200)
    tagline_zh: str = Field(default="", max_length=200)
    primary_color: str = Field(default="#0b5394", max_length=7)
    accent_color: str = Field(default="#f1c232", max_length=7)
    logo_path: str = Field(default="", max_length=200)  # under assets/, served publicly
    default_locale: str = Field(default="en", max_length=5)
    currency: str = Field(default="HKD", max_length=3)
    tracking_prefix: str = Field(default="WB", max_length=2)
    is_active: bool = True
    created_at: datetime = timestamp_field()


class TenantKey(SQLModel, table=True):
    """A tenant's data key, wrapped by the master key that lives outside the database."""

    __tablename__ = "tenant_key"
    __table_args__ = (UniqueConstraint("tenant_id", "version", name="tenant_key_version"),)

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    version: int = Field(default=1)
    wrapped_key: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = timestamp_field()


class TenantSecret(SQLModel, table=True):
    """A PSP or carrier secret, encrypted with the tenant's data key; never logged or shown."""

    __tablename__ = "tenant_secret"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "name", name="tenant_secret_name"),)

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    scope: str = Field(max_length=80)  # e.g. "payments:stripe", "carrier_account:<uuid>"
    name: str = Field(max_length=60)  # e.g. "api_key", "webhook_secret"
    key_version: int = 1
    ciphertext: bytes = Field(sa_type=LargeBinary)
    metadata_: dict = jsonb_field()
    updated_at: datetime = timestamp_field()
