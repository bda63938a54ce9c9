"""The webhook inbox: raw deliveries from PSPs and carriers, stored before anything else happens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.domain.statuses import WebhookState
from backend.models.base import enum_check, fk, id_field, jsonb_field, timestamp_field


class WebhookInbox(SQLModel, table=True):
    __tablename__ = "webhook_inbox"
    __table_args__ = (
        enum_check("state", WebhookState, "webhook_state"),
        CheckConstraint("kind IN ('payment', 'carrier')", name="webhook_kind"),
        UniqueConstraint("kind", "provider", "tenant_id", "event_id", name="webhook_event_once"),
        Index(
            "webhook_pending",
            "received_at",
            postgresql_where=text("state IN ('received', 'failed', 'waiting')"),
        ),
        Index("webhook_tenant_received", "tenant_id", "received_at"),
        CheckConstraint("attempts >= 0", name="webhook_attempts_nonnegative"),
    )

    id: UUID = id_field()
    tenant_id: UUID = fk("tenant.id", index=False)
    kind: str = Field(max_length=10)
    provider: str = Field(max_length=20)  # PSP or carrier slug
    event_id: str = Field(max_length=200)
    event_type: str = Field(default="", max_length=100)
    headers: dict = jsonb_field()
    body: bytes = Field(sa_type=LargeBinary)
    state: str = Field(default=WebhookState.RECEIVED.value, max_length=10)
    attempts: int = 0
    last_error: str = Field(default="", sa_type=Text)
    # What the event turned out to be about (a payment's id), set once applied: for staff views.
    subject_id: UUID | None = Field(default=None, index=True)
    received_at: datetime = timestamp_field()
    processed_at: datetime | None = timestamp_field(nullable=True)
