"""Staff roles and what each may do; checked in services, shown in navigation."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    FINANCE = "finance"
    TENANT_ADMIN = "tenant_admin"
    PLATFORM_ADMIN = "platform_admin"


class Permission(StrEnum):
    VIEW_SHIPMENTS = "view_shipments"
    FIX_QUARANTINE = "fix_quarantine"
    VIEW_TRANSACTIONS = "view_transactions"
    REFUND = "refund"
    REPLAY_WEBHOOKS = "replay_webhooks"
    VIEW_REPORTS = "view_reports"
    CONFIGURE_TENANT = "configure_tenant"
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    MANAGE_TENANTS = "manage_tenants"


_AGENT = {Permission.VIEW_SHIPMENTS, Permission.FIX_QUARANTINE, Permission.VIEW_TRANSACTIONS}
_FINANCE = {
    Permission.VIEW_SHIPMENTS,
    Permission.VIEW_TRANSACTIONS,
    Permission.REFUND,
    Permission.REPLAY_WEBHOOKS,
    Permission.VIEW_REPORTS,
}
_TENANT_ADMIN = (
    _AGENT
    | _FINANCE
    | {Permission.CONFIGURE_TENANT, Permission.MANAGE_STAFF, Permission.VIEW_AUDIT}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_AGENT),
    Role.FINANCE: frozenset(_FINANCE),
    Role.TENANT_ADMIN: frozenset(_TENANT_ADMIN),
    Role.PLATFORM_ADMIN: frozenset(Permission),
}


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    """Union of the permissions the given roles grant."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
