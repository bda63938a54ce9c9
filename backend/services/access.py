"""Who is acting (a Principal, built from a server-side session) and what they may do per tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from backend.domain.roles import Permission, Role, permissions_of
from backend.services.errors import PermissionDenied


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    session_id: UUID
    audience: str
    email: str
    display_name: str
    preferred_locale: str = "en"
    is_platform_admin: bool = False
    member_id: UUID | None = None
    roles: dict[UUID, frozenset[Role]] = field(default_factory=dict)

    def roles_in(self, tenant_id: UUID) -> frozenset[Role]:
        if self.is_platform_admin:
            return frozenset({Role.PLATFORM_ADMIN})
        return self.roles.get(tenant_id, frozenset())

    def can(self, tenant_id: UUID, permission: Permission) -> bool:
        return permission in permissions_of(self.roles_in(tenant_id))

    @property
    def is_staff(self) -> bool:
        return self.is_platform_admin or any(self.roles.values())


def require(principal: Principal | None, tenant_id: UUID, permission: Permission) -> Principal:
    """Raise unless a signed-in staff principal holds `permission` in `tenant_id`."""
    if principal is None or principal.audience != "staff":
        raise PermissionDenied("sign in to the staff portal first")
    if not principal.can(tenant_id, permission):
        raise PermissionDenied(f"your role does not allow {permission.value}")
    return principal
