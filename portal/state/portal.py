"""State shared by customer pages: the tenant's branding and who is signed in (re-read from the cookie)."""

from __future__ import annotations

import json

import reflex as rx

from backend.domain.statuses import SessionAudience
from backend.services import accounts, sessions, tenants
from backend.services.access import Principal
from portal import routes
from portal.state.base import ONE_YEAR, AppState

PORTAL_COOKIE = sessions.COOKIE_NAMES[SessionAudience.PORTAL]


def navigate_to(url: str) -> rx.event.EventSpec:
    """A full page load (not client-side routing): the new WebSocket then carries fresh cookies."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class PortalState(AppState):
    tenant_cookie: str = rx.Cookie("", name="wb_tenant", max_age=ONE_YEAR, same_site="lax")
    tenant_slug: str = ""
    brand_name: str = "Waybill"
    brand_name_zh: str = "Waybill"
    brand_tagline: str = ""
    brand_tagline_zh: str = ""
    primary_color: str = "#0b5394"
    accent_color: str = "#f1c232"
    logo_path: str = ""
    tenant_choices: list[dict[str, str]] = []
    signed_in: bool = False
    display_name: str = ""
    # A guest's orders as "reference:token,..." — the browser's own secret to reach them again.
    guest_orders: str = rx.Cookie(
        "", name="wb_guest_orders", max_age=30 * ONE_YEAR // 365, same_site="lax"
    )

    def _principal(self) -> Principal | None:
        return sessions.resolve_session(self._cookie(PORTAL_COOKIE), SessionAudience.PORTAL)

    def _apply_brand(self, requested: str) -> None:
        brand = tenants.branding_for(requested)
        if brand is None:
            return
        self.tenant_slug = brand.slug
        self.tenant_cookie = brand.slug
        self.brand_name, self.brand_name_zh = brand.name, brand.name_zh
        self.brand_tagline, self.brand_tagline_zh = brand.tagline, brand.tagline_zh
        self.primary_color, self.accent_color = brand.primary_color, brand.accent_color
        self.logo_path = brand.logo_path
        if not self.locale:
            self.locale = brand.default_locale

    @rx.event
    def load(self):
        """on_load of every customer page."""
        self.tenant_choices = [
            {"slug": b.slug, "name": b.name, "name_zh": b.name_zh} for b in tenants.list_branding()
        ]
        requested = self.router.url.query_parameters.get("tenant", "") or self.tenant_cookie
        self._apply_brand(requested)
        principal = self._principal()
        self.signed_in = principal is not None
        self.display_name = principal.display_name if principal else ""
        if principal and not self.locale:
            self.locale = principal.preferred_locale

    @rx.event
    def choose_tenant(self, slug: str):
        if any(choice["slug"] == slug for choice in self.tenant_choices):
            self._apply_brand(slug)

    @rx.event
    def sign_out(self):
        accounts.sign_out(self._cookie(PORTAL_COOKIE))
        self.signed_in = False
        self.display_name = ""
        return navigate_to(f"{routes.AUTH_SIGNED_OUT}?audience=portal&next={routes.SIGNED_OUT}")
