"""Member sign-in: checks the password (throttled), then hands over to the HttpOnly cookie route."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from backend.domain.statuses import SessionAudience
from backend.services import accounts, sessions
from backend.services.errors import AuthFailed
from portal import routes
from portal.components.forms import field, form_error
from portal.components.layout import portal_shell
from portal.i18n import t, translate
from portal.state.portal import PORTAL_COOKIE, PortalState, navigate_to


def complete_url(ticket: str, next_path: str) -> str:
    return f"{routes.AUTH_COMPLETE}?{urlencode({'ticket': ticket, 'next': next_path})}"


class SignInState(PortalState):
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""

    @rx.event
    async def submit(self, form: dict):
        # Argon2 takes tens of milliseconds: hash in a thread, not on the event loop.
        email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
        self.email_error = translate("email_required", self.locale) if not email else ""
        self.password_error = translate("password_too_short", self.locale) if not password else ""
        self.form_error = ""
        if not email or not password:
            return
        try:
            signed_in = await asyncio.to_thread(
                accounts.sign_in,
                email,
                password,
                SessionAudience.PORTAL,
                ip=self._client_ip(),
                user_agent=self._user_agent(),
                previous_token=self._cookie(PORTAL_COOKIE),
            )
        except AuthFailed as failure:
            self.form_error = translate(failure.code, self.locale, seconds=failure.retry_after)
            return
        ticket = sessions.issue_login_ticket(signed_in.token, SessionAudience.PORTAL)
        return navigate_to(complete_url(ticket, routes.HOME))


def sign_in_page() -> rx.Component:
    return portal_shell(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(t("sign_in_title"), size="6", as_="h1"),
                    form_error(SignInState.form_error),
                    field(
                        "email",
                        "email",
                        SignInState.email_error,
                        type_="email",
                        autocomplete="username",
                    ),
                    field(
                        "password",
                        "password",
                        SignInState.password_error,
                        type_="password",
                        autocomplete="current-password",
                    ),
                    rx.button(
                        t("sign_in"), type="submit", size="3", width="100%", data_testid="submit"
                    ),
                    rx.text(
                        t("no_account"), " ", rx.link(t("sign_up"), href=routes.SIGN_UP), size="2"
                    ),
                    spacing="4",
                ),
                on_submit=SignInState.submit,
                reset_on_submit=False,
                no_validate=True,  # our own messages, next to each field, in both languages
            ),
            max_width="28rem",
            margin_x="auto",
        )
    )
