"""People who sign in: accounts, staff roles per tenant, and server-side sessions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.domain.roles import Role
from backend.domain.statuses import SessionAudience
from backend.models.base import enum_check, fk, id_field, timestamp_field


class UserAccount(SQLModel, table=True):
    """One identity (email + password) for a member, a staff user or both."""

    __tablename__ = "user_account"
    __table_args__ = (
        Index("user_account_email_lower", text("lower(email)"), unique=True),
        CheckConstraint("length(email) BETWEEN 3 AND 254", name="user_account_email_length"),
        CheckConstraint("preferred_locale IN ('en', 'zh-HK')", name="user_account_locale"),
    )

    id: UUID = id_field()
    email: str = Field(max_length=254)
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=200)
    is_platform_admin: bool = False
    is_active: bool = True
    preferred_locale: str = Field(default="en", max_length=5)
    created_at: datetime = timestamp_field()
    last_login_at: datetime | None = timestamp_field(nullable=True)


class StaffRole(SQLModel, table=True):
    """A staff user's role in one tenant (platform admins hold no tenant rows)."""

    __tablename__ = "staff_role"
    __table_args__ = (
        UniqueConstraint("user_id", "tenant_id", "role", name="staff_role_once"),
        enum_check("role", Role, "staff_role_role"),
        CheckConstraint("role <> 'platform_admin'", name="staff_role_not_platform"),
    )

    id: UUID = id_field()
    user_id: UUID = fk("user_account.id", ondelete="CASCADE")
    tenant_id: UUID = fk("tenant.id", ondelete="CASCADE")
    role: str = Field(max_length=20)
    granted_at: datetime = timestamp_field()


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of its token is stored."""

    __tablename__ = "auth_session"
    __table_args__ = (enum_check("audience", SessionAudience, "auth_session_audience"),)

    id: UUID = id_field()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: UUID = fk("user_account.id", ondelete="CASCADE")
    audience: str = Field(max_length=10)
    created_at: datetime = timestamp_field()
    last_seen_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field()  # absolute expiry; idle expiry uses last_seen_at
    revoked_at: datetime | None = timestamp_field(nullable=True)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
