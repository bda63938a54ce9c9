"""What staff see of money: payments (paged by keyset), one payment in full, the webhook inbox,
replays, and the reconciler's open issues. Every call checks the role in the tenant first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlmodel import select

from backend.db import session_scope
from backend.domain.payment_lifecycle import refundable_minor
from backend.domain.roles import Permission
from backend.domain.statuses import PaymentStatus, RefundStatus, WebhookState
from backend.integrations.payments.registry import PROVIDERS
from backend.models import Order, Payment, ReconciliationIssue, Refund, WebhookInbox
from backend.models.base import utcnow
from backend.services import audit, keyset, task_queue, webhook_inbox
from backend.services.access import Principal
from backend.services.errors import NotFound, ValidationFailed
from backend.services.tenants import scoped_tenant


@dataclass(frozen=True)
class PaymentRow:
    id: UUID
    order_reference: str
    provider: str
    status: str
    amount_minor: int
    refunded_minor: int
    currency: str
    customer: str
    created_at: datetime
    cursor: str


@dataclass(frozen=True)
class PaymentPage:
    rows: list[PaymentRow]
    next_cursor: str | None


@dataclass(frozen=True)
class RefundRow:
    id: UUID
    amount_minor: int
    status: str
    provider_reference: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class InboxRow:
    id: UUID
    provider: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_error: str
    received_at: datetime
    cursor: str


@dataclass(frozen=True)
class PaymentDetail:
    row: PaymentRow
    provider_reference: str
    failure_reason: str
    refundable_minor: int
    refunds: list[RefundRow] = field(default_factory=list)
    events: list[InboxRow] = field(default_factory=list)


@dataclass(frozen=True)
class IssueRow:
    id: UUID
    payment_id: UUID
    kind: str
    ours: str
    theirs: str
    detected_at: datetime


def _row(payment: Payment, order: Order) -> PaymentRow:
    customer = order.guest_email or ("member" if order.member_id else "")
    return PaymentRow(
        payment.id,
        order.reference,
        payment.provider,
        payment.status,
        payment.amount_minor,
        payment.refunded_minor,
        payment.currency,
        customer,
        payment.created_at,
        keyset.encode(payment.created_at, payment.id),
    )


def list_payments(
    principal: Principal | None,
    tenant_slug: str,
    *,
    status: str = "",
    provider: str = "",
    after: str | None = None,
    limit: int = 25,
) -> PaymentPage:
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.VIEW_TRANSACTIONS)
    if status and status not in {s.value for s in PaymentStatus}:
        raise ValidationFailed({"status": "status_invalid"})
    if provider and provider not in PROVIDERS:
        raise ValidationFailed({"provider": "provider_invalid"})
    limit = keyset.page_size(limit)
    query = (
        select(Payment, Order)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.tenant_id == tenant_id)
    )
    if status:
        query = query.where(Payment.status == status)
    if provider:
        query = query.where(Payment.provider == provider)
    if after:
        query = query.where(keyset.older_than(Payment.created_at, Payment.id, after))
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    with session_scope() as db:
        found = db.exec(query).all()
    rows = [_row(p, o) for p, o in found[:limit]]
    return PaymentPage(rows, rows[-1].cursor if len(found) > limit else None)


def _inbox_row(row: WebhookInbox) -> InboxRow:
    return InboxRow(
        row.id,
        row.provider,
        row.event_id,
        row.event_type,
        row.state,
        row.attempts,
        row.last_error[:500],
        row.received_at,
        keyset.encode(row.received_at, row.id),
    )


def payment_detail(
    principal: Principal | None, tenant_slug: str, payment_id: UUID
) -> PaymentDetail:
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.VIEW_TRANSACTIONS)
    with session_scope() as db:
        found = db.exec(
            select(Payment, Order)
            .join(Order, Order.id == Payment.order_id)
            .where(Payment.id == payment_id, Payment.tenant_id == tenant_id)
        ).first()
        if found is None:
            raise NotFound("no such payment")
        payment, order = found
        refunds = db.exec(
            select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)
        ).all()
        events = db.exec(
            select(WebhookInbox)
            .where(WebhookInbox.subject_id == payment.id, WebhookInbox.tenant_id == tenant_id)
            .order_by(WebhookInbox.received_at)
        ).all()
        in_flight = sum(
            r.amount_minor
            for r in refunds
            if r.status in (RefundStatus.REQUESTED.value, RefundStatus.PENDING.value)
        )
        available = (
            refundable_minor(payment.amount_minor, payment.refunded_minor, in_flight)
            if payment.status == PaymentStatus.SUCCEEDED.value
            else 0
        )
        return PaymentDetail(
            row=_row(payment, order),
            provider_reference=payment.provider_reference or "",
            failure_reason=payment.failure_reason,
            refundable_minor=available,
            refunds=[
                RefundRow(
                    r.id,
                    r.amount_minor,
                    r.status,
                    r.provider_reference or "",
                    r.reason,
                    r.created_at,
                )
                for r in refunds
            ],
            events=[_inbox_row(e) for e in events],
        )


def list_webhooks(
    principal: Principal | None,
    tenant_slug: str,
    *,
    state: str = "",
    after: str | None = None,
    limit: int = 25,
) -> tuple[list[InboxRow], str | None]:
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.VIEW_TRANSACTIONS)
    if state and state not in {s.value for s in WebhookState}:
        raise ValidationFailed({"state": "state_invalid"})
    limit = keyset.page_size(limit)
    query = select(WebhookInbox).where(WebhookInbox.tenant_id == tenant_id)
    if state:
        query = query.where(WebhookInbox.state == state)
    if after:
        query = query.where(keyset.older_than(WebhookInbox.received_at, WebhookInbox.id, after))
    query = query.order_by(WebhookInbox.received_at.desc(), WebhookInbox.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    with session_scope() as db:
        found = db.exec(query).all()
    rows = [_inbox_row(r) for r in found[:limit]]
    return rows, (rows[-1].cursor if len(found) > limit else None)


APPLY_TASKS = {
    "payment": "waybill.webhooks.apply_payment",
    "carrier": "waybill.webhooks.apply_carrier_push",
}


def replay_webhook(principal: Principal | None, tenant_slug: str, inbox_id: UUID) -> str:
    """Apply a stored webhook again (finance, admins), whatever state it is in; returns its kind."""
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.REPLAY_WEBHOOKS)
    assert principal is not None
    with session_scope() as db:
        row = db.exec(
            select(WebhookInbox).where(
                WebhookInbox.id == inbox_id, WebhookInbox.tenant_id == tenant_id
            )
        ).first()
        if row is None:
            raise NotFound("no such webhook")
        kind = row.kind
        audit.record(
            db,
            action="webhook.replayed",
            actor_user_id=principal.user_id,
            tenant_id=tenant_id,
            target_type="webhook",
            target_id=str(inbox_id),
            details={"provider": row.provider, "event_id": row.event_id, "state_before": row.state},
        )
    webhook_inbox.replay(inbox_id)
    task_queue.enqueue(APPLY_TASKS[kind], str(inbox_id), queue="webhooks")
    return kind


def open_issues(principal: Principal | None, tenant_slug: str, limit: int = 100) -> list[IssueRow]:
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.VIEW_TRANSACTIONS)
    with session_scope() as db:
        rows = db.exec(
            select(ReconciliationIssue)
            .where(
                ReconciliationIssue.tenant_id == tenant_id,
                ReconciliationIssue.resolved_at.is_(None),
            )  # type: ignore[union-attr]
            .order_by(ReconciliationIssue.detected_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
        return [IssueRow(i.id, i.payment_id, i.kind, i.ours, i.theirs, i.detected_at) for i in rows]


def resolve_issue(principal: Principal | None, tenant_slug: str, issue_id: UUID) -> None:
    tenant_id = scoped_tenant(principal, tenant_slug, Permission.REFUND)
    assert principal is not None
    with session_scope() as db:
        issue = db.exec(
            select(ReconciliationIssue).where(
                ReconciliationIssue.id == issue_id, ReconciliationIssue.tenant_id == tenant_id
            )
        ).first()
        if issue is None:
            raise NotFound("no such issue")
        issue.resolved_at = utcnow()
        db.add(issue)
        audit.record(
            db,
            action="reconciliation.resolved",
            actor_user_id=principal.user_id,
            tenant_id=tenant_id,
            target_type="payment",
            target_id=str(issue.payment_id),
            details={"kind": issue.kind, "ours": issue.ours, "theirs": issue.theirs},
        )
