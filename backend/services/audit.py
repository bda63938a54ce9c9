"""The audit log: every staff and admin action, written in the same transaction as the action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from backend.db import session_scope
from backend.domain.roles import Permission
from backend.models import AuditLog, StaffRole, UserAccount
from backend.services.access import Principal


def record(
    db: Session,
    *,
    action: str,
    actor_user_id: UUID | None,
    tenant_id: UUID | None = None,
    target_type: str = "",
    target_id: str = "",
    details: dict | None = None,
    ip: str = "",
) -> None:
    db.add(
        AuditLog(
            tenant_id=tenant_id,
            actor_user_id=actor_user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
            ip=ip[:64],
        )
    )


@dataclass(frozen=True)
class AuditRow:
    created_at: datetime
    action: str
    actor: str
    target: str
    ip: str


def list_recent(
    principal: Principal | None, tenant_slug: str, *, limit: int = 50
) -> list[AuditRow]:
    """The tenant's audit trail, plus sign-ins of its staff, newest first (tenant admins)."""
    from backend.services.tenants import scoped_tenant  # tenants -> audit would be circular

    tenant = scoped_tenant(principal, tenant_slug, Permission.VIEW_AUDIT)
    limit = max(1, min(limit, 200))
    with session_scope() as db:
        staff_ids = select(StaffRole.user_id).where(StaffRole.tenant_id == tenant)
        rows = db.exec(
            select(AuditLog, UserAccount.email)
            .join(UserAccount, UserAccount.id == AuditLog.actor_user_id, isouter=True)
            .where(
                or_(
                    AuditLog.tenant_id == tenant,
                    and_(AuditLog.tenant_id.is_(None), AuditLog.actor_user_id.in_(staff_ids)),  # type: ignore[union-attr,attr-defined]
                )
            )
            .order_by(AuditLog.created_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
    return [
        AuditRow(
            created_at=entry.created_at,
            action=entry.action,
            actor=email or "system",
            target=f"{entry.target_type}:{entry.target_id}" if entry.target_type else "",
            ip=entry.ip,
        )
        for entry, email in rows
    ]
