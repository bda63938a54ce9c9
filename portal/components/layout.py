"""The customer portal's shell: the tenant's brand, language switch, sign-in state and footer."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.components.language_switch import language_switch
from portal.i18n import t
from portal.state.base import AppState
from portal.state.portal import PortalState


def brand_name() -> rx.Var:
    return rx.cond(AppState.locale == "zh-HK", PortalState.brand_name_zh, PortalState.brand_name)


def brand_tagline() -> rx.Var:
    return rx.cond(
        AppState.locale == "zh-HK", PortalState.brand_tagline_zh, PortalState.brand_tagline
    )


def _tenant_switch() -> rx.Component:
    return rx.el.select(
        rx.foreach(
            PortalState.tenant_choices,
            lambda choice: rx.el.option(
                rx.cond(AppState.locale == "zh-HK", choice["name_zh"], choice["name"]),
                value=choice["slug"],
            ),
        ),
        value=PortalState.tenant_slug,
        on_change=PortalState.choose_tenant,
        aria_label=t("brand_switch"),
        class_name="tenant-switch",
    )


def _account_links() -> rx.Component:
    return rx.cond(
        PortalState.signed_in,
        rx.hstack(
            rx.link(
                t("nav_orders"),
                href=routes.ORDERS,
                class_name="header-link",
                data_testid="nav-my-orders",
            ),
            rx.link(
                t("nav_my_shipments"),
                href=routes.MY_SHIPMENTS,
                class_name="header-link",
                data_testid="nav-my-shipments",
            ),
            rx.text(
                t("signed_in_as"),
                " ",
                rx.text.strong(PortalState.display_name),
                size="2",
                data_testid="signed-in-as",
            ),
            rx.button(
                t("sign_out"),
                on_click=PortalState.sign_out,
                variant="soft",
                size="2",
                class_name="header-button",
                data_testid="sign-out",
            ),
            align="center",
        ),
        rx.hstack(
            rx.link(t("sign_in"), href=routes.SIGN_IN, class_name="header-link"),
            rx.link(t("sign_up"), href=routes.SIGN_UP, class_name="header-link"),
        ),
    )


def portal_shell(*children: rx.Component) -> rx.Component:
    return rx.box(
        rx.el.a(t("skip_to_content"), href="#main", class_name="skip-link"),
        rx.el.header(
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.cond(
                            PortalState.logo_path != "",
                            rx.image(src=PortalState.logo_path, alt="", height="36px"),
                        ),
                        rx.text(brand_name(), size="5", weight="bold", data_testid="brand-name"),
                        align="center",
                    ),
                    href=routes.HOME,
                    underline="none",
                    color="white",
                ),
                rx.link(
                    t("nav_track"),
                    href=routes.TRACK,
                    class_name="header-link",
                    data_testid="nav-track",
                ),
                rx.link(
                    t("nav_ship"),
                    href=routes.SHIP,
                    class_name="header-link",
                    data_testid="nav-ship",
                ),
                rx.spacer(),
                _tenant_switch(),
                language_switch(),
                _account_links(),
                align="center",
                wrap="wrap",
                spacing="4",
                class_name="shell-bar",
            ),
            style={"background": PortalState.primary_color, "color": "white"},
            class_name="portal-header",
        ),
        rx.el.main(rx.container(*children, size="3", padding_y="6"), id="main", tab_index=-1),
        rx.el.footer(
            rx.container(rx.text(brand_name(), " · ", t("footer_note"), size="2"), size="3"),
            style={"border_top": f"4px solid {PortalState.accent_color}"},
            class_name="portal-footer",
        ),
        min_height="100vh",
        # Radix components take their accent from these variables: the tenant's colour.
        style={
            "--accent-9": PortalState.primary_color,
            "--accent-10": PortalState.primary_color,
            "--accent-11": PortalState.primary_color,
            "--accent-a8": PortalState.primary_color,
        },
    )
