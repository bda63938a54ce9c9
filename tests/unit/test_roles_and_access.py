"""Staff roles, their permissions, and the service-layer check that a principal may act in a tenant."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backend.domain.roles import ROLE_PERMISSIONS, Permission, Role, permissions_of
from backend.services.access import Principal, require
from backend.services.errors import (
    AuthFailed,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)

TENANT_A = uuid4()
TENANT_B = uuid4()


def _principal(
    *, audience: str = "staff", roles: dict | None = None, platform: bool = False
) -> Principal:
    return Principal(
        user_id=uuid4(),
        session_id=uuid4(),
        audience=audience,
        email="staff@example.com",
        display_name="Staff",
        is_platform_admin=platform,
        roles={tenant: frozenset(r) for tenant, r in (roles or {}).items()},
    )


# -- roles ------------------------------------------------------------------------------------


def test_every_role_has_a_permission_set():
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_an_agent_handles_shipments_and_quarantine_but_not_money_or_configuration():
    agent = ROLE_PERMISSIONS[Role.AGENT]
    assert {
        Permission.VIEW_SHIPMENTS,
        Permission.FIX_QUARANTINE,
        Permission.VIEW_TRANSACTIONS,
    } == agent


def test_finance_refunds_and_reports_but_does_not_fix_quarantine_or_manage_staff():
    finance = ROLE_PERMISSIONS[Role.FINANCE]
    assert {Permission.REFUND, Permission.VIEW_REPORTS, Permission.REPLAY_WEBHOOKS} <= finance
    assert Permission.FIX_QUARANTINE not in finance
    assert Permission.MANAGE_STAFF not in finance
    assert Permission.VIEW_AUDIT not in finance


def test_a_tenant_admin_can_do_what_agents_and_finance_can_plus_configure_the_tenant():
    admin = ROLE_PERMISSIONS[Role.TENANT_ADMIN]
    assert ROLE_PERMISSIONS[Role.AGENT] <= admin
    assert ROLE_PERMISSIONS[Role.FINANCE] <= admin
    assert {Permission.CONFIGURE_TENANT, Permission.MANAGE_STAFF, Permission.VIEW_AUDIT} <= admin


def test_only_a_platform_admin_manages_tenants():
    holders = {
        role for role, granted in ROLE_PERMISSIONS.items() if Permission.MANAGE_TENANTS in granted
    }
    assert holders == {Role.PLATFORM_ADMIN}
    assert ROLE_PERMISSIONS[Role.PLATFORM_ADMIN] == frozenset(Permission)


def test_permissions_of_several_roles_is_their_union():
    assert permissions_of({Role.AGENT, Role.FINANCE}) == (
        ROLE_PERMISSIONS[Role.AGENT] | ROLE_PERMISSIONS[Role.FINANCE]
    )


def test_no_role_means_no_permission():
    assert permissions_of(set()) == frozenset()


def test_role_permission_sets_cannot_be_changed_by_a_caller():
    granted = permissions_of({Role.AGENT})
    assert isinstance(granted, frozenset)
    assert isinstance(ROLE_PERMISSIONS[Role.AGENT], frozenset)


# -- principal --------------------------------------------------------------------------------


def test_a_principal_has_roles_only_in_the_tenants_that_granted_them():
    agent = _principal(roles={TENANT_A: {Role.AGENT}})
    assert agent.roles_in(TENANT_A) == frozenset({Role.AGENT})
    assert agent.roles_in(TENANT_B) == frozenset()
    assert agent.can(TENANT_A, Permission.VIEW_SHIPMENTS)
    assert not agent.can(TENANT_B, Permission.VIEW_SHIPMENTS)


def test_a_platform_admin_can_do_everything_in_every_tenant():
    platform = _principal(platform=True)
    for tenant in (TENANT_A, TENANT_B, uuid4()):
        assert all(platform.can(tenant, permission) for permission in Permission)


def test_a_principal_is_staff_with_any_role_or_as_platform_admin():
    assert _principal(roles={TENANT_A: {Role.AGENT}}).is_staff
    assert _principal(platform=True).is_staff
    assert not _principal(audience="portal").is_staff
    assert not _principal(roles={TENANT_A: set()}).is_staff


# -- require ----------------------------------------------------------------------------------


def test_require_returns_the_principal_when_the_role_allows():
    agent = _principal(roles={TENANT_A: {Role.AGENT}})
    assert require(agent, TENANT_A, Permission.VIEW_SHIPMENTS) is agent


def test_require_refuses_nobody():
    with pytest.raises(PermissionDenied, match="sign in"):
        require(None, TENANT_A, Permission.VIEW_SHIPMENTS)


def test_require_refuses_a_portal_session_even_of_a_staff_user():
    # The same person signed in to the customer portal has not opened the staff portal.
    staff_in_portal = _principal(audience="portal", roles={TENANT_A: {Role.TENANT_ADMIN}})
    with pytest.raises(PermissionDenied, match="staff portal"):
        require(staff_in_portal, TENANT_A, Permission.VIEW_SHIPMENTS)


def test_require_refuses_a_role_without_the_permission():
    agent = _principal(roles={TENANT_A: {Role.AGENT}})
    with pytest.raises(PermissionDenied, match="view_audit"):
        require(agent, TENANT_A, Permission.VIEW_AUDIT)


def test_require_refuses_another_tenant():
    admin_of_a = _principal(roles={TENANT_A: {Role.TENANT_ADMIN}})
    with pytest.raises(PermissionDenied):
        require(admin_of_a, TENANT_B, Permission.VIEW_SHIPMENTS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_require_agrees_with_the_role_table(role, permission):
    if role is Role.PLATFORM_ADMIN:
        principal = _principal(platform=True)
    else:
        principal = _principal(roles={TENANT_A: {role}})
    if permission in ROLE_PERMISSIONS[role]:
        assert require(principal, TENANT_A, permission) is principal
    else:
        with pytest.raises(PermissionDenied):
            require(principal, TENANT_A, permission)


# -- errors -----------------------------------------------------------------------------------


def test_every_service_error_derives_from_service_error():
    for error in (ValidationFailed({}), NotFound(), PermissionDenied(), AuthFailed("x")):
        assert isinstance(error, ServiceError)


def test_validation_failed_keeps_each_fields_code_and_says_them():
    error = ValidationFailed({"email": "email_taken", "phone": "phone_invalid"})
    assert error.fields == {"email": "email_taken", "phone": "phone_invalid"}
    assert str(error) == "email: email_taken, phone: phone_invalid"


def test_auth_failed_carries_its_code_and_retry_after():
    assert AuthFailed("invalid_credentials").retry_after == 0
    throttled = AuthFailed("throttled", retry_after=30)
    assert (throttled.code, throttled.retry_after, str(throttled)) == ("throttled", 30, "throttled")
