"""Member sign-up: every field is checked on the server and its message shown next to it."""

from __future__ import annotations

import asyncio

import reflex as rx

from backend.domain.statuses import SessionAudience
from backend.services import accounts, sessions
from backend.services.errors import ValidationFailed
from portal import routes
from portal.components.forms import field, form_error
from portal.components.layout import portal_shell
from portal.i18n import t, translate
from portal.pages.sign_in import complete_url
from portal.state.portal import PortalState, navigate_to

FIELDS = ("email", "display_name", "phone", "password", "password_confirm")
_MAX_FIELD_CHARS = 2000  # anything longer is cut before validation, which then rejects it


class SignUpState(PortalState):
    email_error: str = ""
    display_name_error: str = ""
    phone_error: str = ""
    password_error: str = ""
    password_confirm_error: str = ""
    form_error: str = ""

    def _show(self, errors: dict[str, str]) -> None:
        for name in FIELDS:
            code = errors.get(name)
            setattr(self, f"{name}_error", translate(code, self.locale) if code else "")

    @rx.event
    async def submit(self, form: dict):
        # Argon2 takes tens of milliseconds: hash in a thread, not on the event loop.
        values = {name: str(form.get(name, ""))[:_MAX_FIELD_CHARS] for name in FIELDS}
        request = accounts.SignUp(
            email=values["email"],
            password=values["password"],
            display_name=values["display_name"],
            phone=values["phone"],
            tenant_slug=self.tenant_slug,
            locale=self.locale or "en",
        )
        errors = accounts.validate_sign_up(request)
        if values["password"] != values["password_confirm"] and "password" not in errors:
            errors["password_confirm"] = "password_mismatch"  # noqa: S105 (an error code)
        self.form_error = ""
        self._show(errors)
        if errors:
            return
        try:
            signed_in = await asyncio.to_thread(
                accounts.sign_up_member,
                request,
                ip=self._client_ip(),
                user_agent=self._user_agent(),
            )
        except ValidationFailed as failure:
            self._show(failure.fields)
            return
        ticket = sessions.issue_login_ticket(signed_in.token, SessionAudience.PORTAL)
        return navigate_to(complete_url(ticket, routes.HOME))


def sign_up_page() -> rx.Component:
    return portal_shell(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(t("sign_up_title"), size="6", as_="h1"),
                    form_error(SignUpState.form_error),
                    field(
                        "email",
                        "email",
                        SignUpState.email_error,
                        type_="email",
                        autocomplete="email",
                    ),
                    field(
                        "display_name",
                        "display_name",
                        SignUpState.display_name_error,
                        autocomplete="name",
                    ),
                    field(
                        "phone_optional",
                        "phone",
                        SignUpState.phone_error,
                        type_="tel",
                        autocomplete="tel",
                    ),
                    field(
                        "password",
                        "password",
                        SignUpState.password_error,
                        type_="password",
                        autocomplete="new-password",
                        hint_key="password_hint",
                    ),
                    field(
                        "password_confirm",
                        "password_confirm",
                        SignUpState.password_confirm_error,
                        type_="password",
                        autocomplete="new-password",
                    ),
                    rx.button(
                        t("sign_up"), type="submit", size="3", width="100%", data_testid="submit"
                    ),
                    rx.text(
                        t("have_account"), " ", rx.link(t("sign_in"), href=routes.SIGN_IN), size="2"
                    ),
                    spacing="4",
                ),
                on_submit=SignUpState.submit,
                reset_on_submit=False,
                no_validate=True,  # our own messages, next to each field, in both languages
            ),
            max_width="28rem",
            margin_x="auto",
        )
    )
