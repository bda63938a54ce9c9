"""Staff sign-in: only accounts with a staff role (or platform admins) get a staff session."""

from __future__ import annotations

import asyncio

import reflex as rx

from backend.domain.statuses import SessionAudience
from backend.services import accounts, sessions
from backend.services.errors import AuthFailed
from portal import routes
from portal.components.forms import field, form_error
from portal.i18n import t, translate
from portal.pages.sign_in import complete_url
from portal.state.portal import navigate_to
from staff.components.layout import staff_shell
from staff.state.staff import STAFF_COOKIE, StaffState


class StaffSignInState(StaffState):
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
                SessionAudience.STAFF,
                ip=self._client_ip(),
                user_agent=self._user_agent(),
                previous_token=self._cookie(STAFF_COOKIE),
            )
        except AuthFailed as failure:
            self.form_error = translate(failure.code, self.locale, seconds=failure.retry_after)
            return
        ticket = sessions.issue_login_ticket(signed_in.token, SessionAudience.STAFF)
        return navigate_to(complete_url(ticket, routes.STAFF_HOME))


def staff_sign_in_page() -> rx.Component:
    return staff_shell(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(t("staff_sign_in_title"), size="6", as_="h1"),
                    form_error(StaffSignInState.form_error),
                    field(
                        "email",
                        "email",
                        StaffSignInState.email_error,
                        type_="email",
                        autocomplete="username",
                    ),
                    field(
                        "password",
                        "password",
                        StaffSignInState.password_error,
                        type_="password",
                        autocomplete="current-password",
                    ),
                    rx.button(
                        t("sign_in"), type="submit", size="3", width="100%", data_testid="submit"
                    ),
                    spacing="4",
                ),
                on_submit=StaffSignInState.submit,
                reset_on_submit=False,
                no_validate=True,  # our own messages, next to each field, in both languages
            ),
            max_width="28rem",
            margin_x="auto",
        )
    )
