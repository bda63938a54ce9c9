"""The root state every page shares: the chosen language, and reading our HttpOnly cookies."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

import reflex as rx

SUPPORTED_LOCALES = ("en", "zh-HK")
ONE_YEAR = 365 * 24 * 3600


class AppState(rx.State):
    """Public vars here reach every browser: only the language lives here."""

    # "" until the person picks a language: pages then follow the tenant's default.
    locale: str = rx.Cookie("", name="wb_locale", max_age=ONE_YEAR, same_site="lax")

    @rx.event
    def set_locale(self, value: str):
        if value in SUPPORTED_LOCALES:
            self.locale = value

    def _cookie(self, name: str) -> str:
        """A cookie from the WebSocket handshake (HttpOnly ones included); never sent back."""
        jar = SimpleCookie()
        try:
            jar.load(self.router.headers.cookie or "")
        except CookieError:
            return ""
        morsel = jar.get(name)
        return morsel.value if morsel else ""

    def _client_ip(self) -> str:
        return self.router.session.client_ip or ""

    def _user_agent(self) -> str:
        return self.router.headers.user_agent or ""
