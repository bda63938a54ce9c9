"""What a signed-in member sees of their own account: points per tenant and recent shipments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_
from sqlmodel import select

from backend.db import session_scope
from backend.domain.statuses import ShipmentStatus
from backend.models import LoyaltyAccount, MemberTenant, Shipment, Tenant
from backend.services.access import Principal
from backend.services.errors import PermissionDenied, ValidationFailed


@dataclass(frozen=True)
class PointsLine:
    tenant_name: str
    balance: int
    pending: int
    tier: str


@dataclass(frozen=True)
class ShipmentLine:
    tracking_number: str
    tenant_name: str
    direction: str  # "sent" or "received"
    status: str
    recipient_city: str
    created_at: datetime


@dataclass(frozen=True)
class MemberOverview:
    display_name: str
    email: str
    points: list[PointsLine]
    shipments: list[ShipmentLine]


def _shipments_of(db, member_id: UUID, *, status: str | None, limit: int) -> list[ShipmentLine]:
    memberships = select(MemberTenant.tenant_id).where(MemberTenant.member_id == member_id)
    query = (
        select(Shipment, Tenant)
        .join(Tenant, Tenant.id == Shipment.tenant_id)
        .where(
            or_(Shipment.sender_member_id == member_id, Shipment.recipient_member_id == member_id)
        )
        # Only tenants the member belongs to (membership is shared, not implied by a parcel).
        .where(Shipment.tenant_id.in_(memberships))  # type: ignore[attr-defined]
    )
    if status:
        query = query.where(Shipment.status == status)
    rows = db.exec(query.order_by(Shipment.created_at.desc()).limit(limit))  # type: ignore[attr-defined]
    return [
        ShipmentLine(
            tracking_number=s.tracking_number,
            tenant_name=t.name,
            direction="sent" if s.sender_member_id == member_id else "received",
            status=s.status,
            recipient_city=s.recipient_city,
            created_at=s.created_at,
        )
        for s, t in rows
    ]


def my_shipments(
    principal: Principal | None, *, status: str | None = None, limit: int = 200
) -> list[ShipmentLine]:
    """Everything the member sent or received, in every tenant, newest first."""
    if principal is None or principal.member_id is None:
        raise PermissionDenied("sign in as a member first")
    if status and status not in {s.value for s in ShipmentStatus}:
        raise ValidationFailed({"status": "status_invalid"})
    with session_scope() as db:
        return _shipments_of(db, principal.member_id, status=status, limit=max(1, min(limit, 500)))


def overview(principal: Principal | None, *, shipments_limit: int = 10) -> MemberOverview:
    if principal is None or principal.member_id is None:
        raise PermissionDenied("sign in as a member first")
    member_id = principal.member_id
    with session_scope() as db:
        points = [
            PointsLine(tenant.name, account.balance, account.pending, account.tier)
            for account, tenant in db.exec(
                select(LoyaltyAccount, Tenant)
                .join(Tenant, Tenant.id == LoyaltyAccount.tenant_id)
                .where(LoyaltyAccount.member_id == member_id)
                .order_by(Tenant.created_at)
            )
        ]
        shipments = _shipments_of(db, member_id, status=None, limit=shipments_limit)
    return MemberOverview(principal.display_name, principal.email, points, shipments)
