"""The staff portal's shell: tenant picker, navigation by role, language switch, sign-out."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.components.language_switch import language_switch
from portal.i18n import t
from staff.state.staff import StaffState


def _nav_link(key: str, href: str, test_id: str) -> rx.Component:
    return rx.link(t(key), href=href, class_name="staff-nav-link", data_testid=test_id)


def _navigation() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            _nav_link("nav_home", routes.STAFF_HOME, "nav-home"),
            rx.cond(
                StaffState.can_view_shipments,
                _nav_link("nav_shipments", routes.STAFF_SHIPMENTS, "nav-shipments"),
            ),
            rx.cond(
                StaffState.can_view_shipments,
                _nav_link("nav_carriers", routes.STAFF_CARRIERS, "nav-carriers"),
            ),
            rx.cond(
                StaffState.can_view_transactions,
                _nav_link("nav_payments", routes.STAFF_PAYMENTS, "nav-payments"),
            ),
            rx.cond(
                StaffState.can_view_transactions,
                _nav_link("nav_webhooks", routes.STAFF_WEBHOOKS, "nav-webhooks"),
            ),
            rx.cond(
                StaffState.can_view_audit, _nav_link("nav_audit", routes.STAFF_AUDIT, "nav-audit")
            ),
            spacing="2",
        ),
        aria_label=t("staff_portal"),
        class_name="staff-nav",
    )


def _tenant_switch() -> rx.Component:
    return rx.el.select(
        rx.foreach(
            StaffState.tenant_choices,
            lambda choice: rx.el.option(choice["name"], value=choice["slug"]),
        ),
        value=StaffState.tenant_slug,
        on_change=StaffState.choose_tenant,
        aria_label=t("tenant"),
        class_name="tenant-switch",
        data_testid="tenant-switch",
    )


def staff_shell(*children: rx.Component) -> rx.Component:
    return rx.box(
        rx.el.a(t("skip_to_content"), href="#main", class_name="skip-link"),
        rx.el.header(
            rx.hstack(
                rx.text(t("staff_portal"), size="4", weight="bold"),
                rx.cond(StaffState.signed_in, _tenant_switch()),
                rx.spacer(),
                language_switch(),
                rx.cond(
                    StaffState.signed_in,
                    rx.hstack(
                        rx.text(
                            StaffState.display_name,
                            " · ",
                            StaffState.roles_label,
                            size="2",
                            data_testid="staff-identity",
                        ),
                        rx.button(
                            t("sign_out"),
                            on_click=StaffState.sign_out,
                            size="2",
                            variant="soft",
                            class_name="header-button",
                            data_testid="sign-out",
                        ),
                        align="center",
                    ),
                ),
                align="center",
                wrap="wrap",
                spacing="4",
                class_name="shell-bar",
            ),
            class_name="staff-header",
        ),
        rx.hstack(
            rx.cond(StaffState.signed_in, _navigation()),
            rx.el.main(
                # A CSS length ("5" was no padding at all), kept inside the 100 % by border-box.
                rx.box(*children, padding="20px 24px", width="100%", box_sizing="border-box"),
                id="main",
                tab_index=-1,
                style={"flex": "1", "min_width": "0"},
            ),
            align="start",
            width="100%",
        ),
        min_height="100vh",
    )
