"""Test data factories: each writes one row (or a few) through the real models and session_scope.

Every factory takes keyword overrides for the columns a test cares about and fills the rest
with valid, unique values, so a test states only what matters to it.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from backend.db import session_scope
from backend.domain import tracking_number
from backend.domain.roles import Role
from backend.domain.statuses import PaymentStatus, SessionAudience, ShipmentStatus
from backend.models import (
    AuditLog,
    Carrier,
    CarrierAccount,
    Member,
    MemberTenant,
    Order,
    Payment,
    Shipment,
    StaffRole,
    Tenant,
    TrackingEvent,
    UserAccount,
)
from backend.models.base import utcnow
from backend.services import passwords, sessions
from backend.services.access import Principal

DEFAULT_PASSWORD = "correct-horse-battery-9"

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


@lru_cache(maxsize=32)
def password_hash(password: str) -> str:
    """A real Argon2 hash, computed once per password (a reused salt is harmless in tests)."""
    return passwords.hash_password(password)


def make_tenant(**overrides: Any) -> Tenant:
    n = _next()
    fields: dict[str, Any] = {
        "slug": f"tenant-{n}",
        "name": f"Tenant {n}",
        "tagline": f"Parcels, the number {n} way",
        "tracking_prefix": "WB",
    }
    fields.update(overrides)
    with session_scope() as db:
        tenant = Tenant(**fields)
        db.add(tenant)
    return tenant


def make_user(
    *, email: str | None = None, password: str = DEFAULT_PASSWORD, **overrides: Any
) -> UserAccount:
    n = _next()
    fields: dict[str, Any] = {
        "email": email or f"user{n}@example.com",
        "display_name": f"User {n}",
        "password_hash": password_hash(password),
    }
    fields.update(overrides)
    with session_scope() as db:
        user = UserAccount(**fields)
        db.add(user)
    return user


def make_member(
    *,
    user: UserAccount | None = None,
    tenants: tuple[Tenant, ...] = (),
    phone: str = "+85291234567",
    **user_overrides: Any,
) -> Member:
    """A member (with a user account of its own unless one is given), joined to `tenants`."""
    user = user or make_user(**user_overrides)
    with session_scope() as db:
        member = Member(user_id=user.id, phone=phone)
        db.add(member)
        db.flush()
        for tenant in tenants:
            db.add(MemberTenant(member_id=member.id, tenant_id=tenant.id))
    return member


def grant_role(user: UserAccount, tenant: Tenant, role: Role) -> StaffRole:
    with session_scope() as db:
        grant = StaffRole(user_id=user.id, tenant_id=tenant.id, role=role.value)
        db.add(grant)
    return grant


def make_staff(tenant: Tenant, role: Role, **user_overrides: Any) -> UserAccount:
    """A user holding `role` in `tenant`."""
    user = make_user(**user_overrides)
    grant_role(user, tenant, role)
    return user


def make_shipment(*, tenant: Tenant | UUID, **overrides: Any) -> Shipment:
    n = _next()
    tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "tracking_number": tracking_number.make("TS", n),
        "status": ShipmentStatus.IN_TRANSIT.value,
        "sender_name": f"Sender {n}",
        "sender_phone": "+85223456789",
        "sender_address": "12/F, 88 Container Port Road",
        "sender_city": "Kwai Chung",
        "recipient_name": f"Recipient {n}",
        "recipient_phone": "+85298765432",
        "recipient_address": "Flat B, 5/F, 23 Nathan Road",
        "recipient_city": "Mong Kok",
    }
    fields.update(overrides)
    if "created_at" in fields and "updated_at" not in fields:
        fields["updated_at"] = fields["created_at"]
    with session_scope() as db:
        shipment = Shipment(**fields)
        db.add(shipment)
    return shipment


def make_payment(
    *,
    tenant: Tenant,
    amount_minor: int = 5000,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    created_at: datetime | None = None,
    **overrides: Any,
) -> Payment:
    """A payment for a fresh guest order of the same amount."""
    n = _next()
    created_at = created_at or utcnow()
    with session_scope() as db:
        order = Order(
            tenant_id=tenant.id,
            reference=f"ORD{n:08d}",
            guest_email=f"guest{n}@example.com",
            currency="HKD",
            quote_minor=amount_minor,
            total_minor=amount_minor,
            created_at=created_at,
            updated_at=created_at,
        )
        db.add(order)
        db.flush()
        fields: dict[str, Any] = {
            "tenant_id": tenant.id,
            "order_id": order.id,
            "provider": "stripe",
            "provider_reference": f"pi_test_{n}",
            "idempotency_key": f"pay-{n}",
            "amount_minor": amount_minor,
            "currency": "HKD",
            "status": status.value,
            "created_at": created_at,
            "updated_at": created_at,
        }
        fields.update(overrides)
        payment = Payment(**fields)
        db.add(payment)
    return payment


def make_audit_entry(*, tenant: Tenant | None, actor: UserAccount | None, action: str) -> AuditLog:
    with session_scope() as db:
        entry = AuditLog(
            tenant_id=tenant.id if tenant else None,
            actor_user_id=actor.id if actor else None,
            action=action,
            target_type="test",
            target_id=str(_next()),
        )
        db.add(entry)
    return entry


def make_carrier_account(
    *, tenant: Tenant, tracking_number_pattern: str = "", **carrier_overrides: Any
) -> CarrierAccount:
    """A carrier (claiming numbers that match `tracking_number_pattern`) and `tenant`'s account."""
    n = _next()
    fields: dict[str, Any] = {
        "slug": f"carrier-{n}",
        "name": f"Carrier {n}",
        "api_style": "rest_json",
        "tracking_number_pattern": tracking_number_pattern,
    }
    fields.update(carrier_overrides)
    with session_scope() as db:
        carrier = Carrier(**fields)
        db.add(carrier)
        db.flush()
        account = CarrierAccount(
            tenant_id=tenant.id,
            carrier_id=carrier.id,
            name=f"Account {n}",
            base_url=f"http://carrier-{n}.invalid",
        )
        db.add(account)
    return account


def make_tracking_events(
    shipment: Shipment, steps: list[dict[str, Any]], *, start: datetime | None = None
) -> list[TrackingEvent]:
    """Events six hours apart from `start`; each step names status and any of reason, city..."""
    start = start or utcnow() - timedelta(days=2)
    events = []
    with session_scope() as db:
        for i, step in enumerate(steps):
            at = step.get("occurred_at") or start + timedelta(hours=6 * i)
            fields: dict[str, Any] = {
                "tenant_id": shipment.tenant_id,
                "shipment_id": shipment.id,
                "occurred_at": at,
                "recorded_at": at,
                "reason": "",
                "description": str(step["status"]).replace("_", " ").capitalize(),
                "city": "Kwai Chung",
                "country": "HK",
                "source": "manual",
                "dedupe_key": f"test-{shipment.tracking_number}-{i}-{_next()}",
            }
            fields.update({k: v for k, v in step.items() if k != "occurred_at"})
            event = TrackingEvent(**fields)
            db.add(event)
            events.append(event)
    return events


def signed_in(user: UserAccount, audience: SessionAudience = SessionAudience.STAFF) -> Principal:
    """The principal of a fresh session of `user` (as a page handler resolves it)."""
    principal = sessions.resolve_session(sessions.open_session(user.id, audience), audience)
    assert principal is not None
    return principal
