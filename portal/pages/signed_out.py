"""Shown after signing out: confirms the session ended and offers to sign in again."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.components.layout import portal_shell
from portal.i18n import t


def signed_out_page() -> rx.Component:
    return portal_shell(
        rx.card(
            rx.vstack(
                rx.heading(t("signed_out_title"), size="6", as_="h1", data_testid="signed-out"),
                rx.text(t("signed_out_body")),
                rx.link(rx.button(t("sign_in_again"), size="3"), href=routes.SIGN_IN),
                spacing="4",
            ),
            max_width="28rem",
            margin_x="auto",
        )
    )
