"""Staff lists of a tenant's shipments: filtered, paged on the server by keyset (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from backend.db import session_scope
from backend.domain.roles import Permission
from backend.domain.statuses import ShipmentStatus
from backend.models import Shipment
from backend.services import keyset
from backend.services.access import Principal
from backend.services.errors import ValidationFailed
from backend.services.tenants import scoped_tenant


@dataclass(frozen=True)
class ShipmentRow:
    tracking_number: str
    status: str
    status_reason: str
    recipient_name: str
    recipient_city: str
    service_level: str
    created_at: datetime
    cursor: str  # opaque keyset position of this row


@dataclass(frozen=True)
class ShipmentPage:
    rows: list[ShipmentRow]
    next_cursor: str | None


def list_shipments(
    principal: Principal | None,
    tenant_slug: str,
    *,
    status: str | None = None,
    after: str | None = None,
    limit: int = 25,
) -> ShipmentPage:
    tenant = scoped_tenant(principal, tenant_slug, Permission.VIEW_SHIPMENTS)
    if status and status not in {s.value for s in ShipmentStatus}:
        raise ValidationFailed({"status": "status_invalid"})
    limit = keyset.page_size(limit)
    query = select(Shipment).where(Shipment.tenant_id == tenant)
    if status:
        query = query.where(Shipment.status == status)
    if after:
        query = query.where(keyset.older_than(Shipment.created_at, Shipment.id, after))
    query = query.order_by(Shipment.created_at.desc(), Shipment.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    with session_scope() as db:
        found = db.exec(query).all()
    rows = [
        ShipmentRow(
            tracking_number=s.tracking_number,
            status=s.status,
            status_reason=s.status_reason,
            recipient_name=s.recipient_name,
            recipient_city=s.recipient_city,
            service_level=s.service_level,
            created_at=s.created_at,
            cursor=keyset.encode(s.created_at, s.id),
        )
        for s in found[:limit]
    ]
    return ShipmentPage(rows=rows, next_cursor=rows[-1].cursor if len(found) > limit else None)
