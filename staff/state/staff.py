"""State shared by staff pages: who is signed in, the tenant being worked on, what the role allows.

The nav flags here only shape the page; every service call checks the role again.
"""

from __future__ import annotations

import reflex as rx

from backend.domain.roles import Permission
from backend.domain.statuses import SessionAudience
from backend.services import accounts, sessions, tenants
from backend.services.access import Principal
from portal import routes
from portal.state.base import AppState
from portal.state.portal import navigate_to

STAFF_COOKIE = sessions.COOKIE_NAMES[SessionAudience.STAFF]
ROLE_LABELS = {
    "agent": "Agent",
    "finance": "Finance",
    "tenant_admin": "Tenant admin",
    "platform_admin": "Platform admin",
}


class StaffState(AppState):
    signed_in: bool = False
    display_name: str = ""
    tenant_choices: list[dict[str, str]] = []
    tenant_slug: str = ""
    roles_label: str = ""
    can_view_shipments: bool = False
    can_view_audit: bool = False
    can_view_transactions: bool = False
    can_refund: bool = False
    can_replay: bool = False

    def _principal(self) -> Principal | None:
        return sessions.resolve_session(self._cookie(STAFF_COOKIE), SessionAudience.STAFF)

    def _refresh_nav(self, principal: Principal) -> None:
        choices = tenants.staff_tenants(principal)
        self.tenant_choices = [{"slug": b.slug, "name": b.name} for b in choices]
        if self.tenant_slug not in {b.slug for b in choices}:
            self.tenant_slug = choices[0].slug if choices else ""
        self.can_view_shipments = self.can_view_audit = self.can_view_transactions = False
        self.can_refund = self.can_replay = False
        self.roles_label = ""
        if self.tenant_slug:
            tenant = tenants.tenant_id(self.tenant_slug)
            roles = principal.roles_in(tenant)
            self.roles_label = ", ".join(sorted(ROLE_LABELS[r.value] for r in roles))
            self.can_view_shipments = principal.can(tenant, Permission.VIEW_SHIPMENTS)
            self.can_view_audit = principal.can(tenant, Permission.VIEW_AUDIT)
            self.can_view_transactions = principal.can(tenant, Permission.VIEW_TRANSACTIONS)
            self.can_refund = principal.can(tenant, Permission.REFUND)
            self.can_replay = principal.can(tenant, Permission.REPLAY_WEBHOOKS)

    @rx.event
    def load(self):
        """on_load of every staff page but sign-in: send strangers to the sign-in page."""
        principal = self._principal()
        self.signed_in = principal is not None
        if principal is None:
            self.display_name = ""
            return rx.redirect(routes.STAFF_SIGN_IN)
        self.display_name = principal.display_name
        if not self.locale:
            self.locale = principal.preferred_locale
        self._refresh_nav(principal)

    @rx.event
    def choose_tenant(self, slug: str):
        principal = self._principal()
        if principal is None:
            return rx.redirect(routes.STAFF_SIGN_IN)
        if any(choice["slug"] == slug for choice in self.tenant_choices):
            self.tenant_slug = slug
            self._refresh_nav(principal)
        # Reload the page so its own data follows the new tenant.
        return rx.redirect(self.router.url.path or routes.STAFF_HOME)

    @rx.event
    def sign_out(self):
        accounts.sign_out(self._cookie(STAFF_COOKIE))
        self.signed_in = False
        return navigate_to(
            f"{routes.AUTH_SIGNED_OUT}?audience=staff&next={routes.STAFF_SIGNED_OUT}"
        )
