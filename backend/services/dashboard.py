"""The staff home page: figures for one tenant, each shown only to roles allowed to see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from backend.db import session_scope
from backend.domain.money import Money
from backend.domain.roles import Permission
from backend.domain.statuses import PaymentStatus, QuarantineStatus, WebhookState
from backend.models import (
    AuditLog,
    Payment,
    QuarantinedRecord,
    Refund,
    Shipment,
    StaffRole,
    WebhookInbox,
)
from backend.models.base import utcnow
from backend.services.access import Principal
from backend.services.tenants import scoped_tenant


@dataclass(frozen=True)
class Dashboard:
    tenant_slug: str
    shipments_by_status: dict[str, int] | None = None  # agents, finance, admins
    open_quarantine: int | None = None  # who may fix quarantined orders
    payments_last_7_days: int | None = None  # finance
    revenue_last_7_days: list[Money] | None = None  # one amount per currency
    refunds_last_7_days: int | None = None
    failed_webhooks: int | None = None
    staff_count: int | None = None  # tenant admins
    audit_events_today: int | None = None
    visible: list[str] = field(default_factory=list)


def staff_dashboard(principal: Principal | None, tenant_slug: str) -> Dashboard:
    tenant = scoped_tenant(principal, tenant_slug, Permission.VIEW_SHIPMENTS)
    assert principal is not None
    can = lambda permission: principal.can(tenant, permission)  # noqa: E731
    since = utcnow() - timedelta(days=7)
    figures: dict = {"tenant_slug": tenant_slug, "visible": []}
    with session_scope() as db:
        rows = db.exec(
            select(Shipment.status, func.count())
            .where(Shipment.tenant_id == tenant)
            .group_by(Shipment.status)
        ).all()
        figures["shipments_by_status"] = {status: count for status, count in rows}
        figures["visible"].append("shipments")
        if can(Permission.FIX_QUARANTINE):
            figures["open_quarantine"] = db.exec(
                select(func.count()).where(
                    QuarantinedRecord.tenant_id == tenant,
                    QuarantinedRecord.status == QuarantineStatus.OPEN.value,
                )
            ).one()
            figures["visible"].append("quarantine")
        if can(Permission.VIEW_REPORTS):
            # Revenue per currency: a tenant may take HKD and CNY, and they do not add up.
            by_currency = db.exec(
                select(Payment.currency, func.count(), func.sum(Payment.amount_minor))
                .where(
                    Payment.tenant_id == tenant,
                    Payment.status == PaymentStatus.SUCCEEDED.value,
                    Payment.created_at >= since,
                )
                .group_by(Payment.currency)
                .order_by(Payment.currency)
            ).all()
            figures["payments_last_7_days"] = sum(count for _, count, _ in by_currency)
            figures["revenue_last_7_days"] = [
                Money(int(total), currency) for currency, _, total in by_currency
            ]
            figures["refunds_last_7_days"] = db.exec(
                select(func.count()).where(Refund.tenant_id == tenant, Refund.created_at >= since)
            ).one()
            figures["visible"].append("payments")
        if can(Permission.REPLAY_WEBHOOKS):
            figures["failed_webhooks"] = db.exec(
                select(func.count()).where(
                    WebhookInbox.tenant_id == tenant,
                    WebhookInbox.state == WebhookState.FAILED.value,
                )
            ).one()
            figures["visible"].append("webhooks")
        if can(Permission.MANAGE_STAFF):
            figures["staff_count"] = db.exec(
                select(func.count(func.distinct(StaffRole.user_id))).where(
                    StaffRole.tenant_id == tenant
                )
            ).one()
            figures["audit_events_today"] = db.exec(
                select(func.count()).where(
                    AuditLog.tenant_id == tenant,
                    AuditLog.created_at >= utcnow() - timedelta(days=1),
                )
            ).one()
            figures["visible"].append("staff")
    return Dashboard(**figures)
