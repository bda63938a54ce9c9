"""Upstream order sources (feeds, file drops, pushed API) and what they sent that could not be used."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.domain.statuses import QuarantineStatus
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field


class UpstreamSource(SQLModel, table=True):
    __tablename__ = "upstream_source"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="upstream_source_name"),
        CheckConstraint("format IN ('rest_feed', 'csv', 'xml', 'api')", name="upstream_format"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    name: str = Field(max_length=60)
    format: str = Field(max_length=10)
    config: dict = jsonb_field()  # feed URL, file folder, column mapping (no secrets)
    cursor: str = Field(default="", max_length=200)
    is_active: bool = True
    last_run_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


class QuarantinedRecord(SQLModel, table=True):
    """A record that failed to parse or validate: kept whole with its reason, never half-applied."""

    __tablename__ = "quarantined_record"
    __table_args__ = (
        enum_check("status", QuarantineStatus, "quarantine_status"),
        Index("quarantine_open_by_tenant", "tenant_id", "created_at"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE", index=False)
    source_id: UUID = fk("upstream_source.id", ondelete="CASCADE")
    external_id: str = Field(default="", max_length=120)
    raw: str = Field(sa_type=Text)
    reason: str = Field(max_length=1000)
    status: str = Field(default=QuarantineStatus.OPEN.value, max_length=10)
    created_at: datetime = timestamp_field()
    resolved_at: datetime | None = timestamp_field(nullable=True)
    resolved_by: UUID | None = fk("user_account.id", nullable=True, index=False)
