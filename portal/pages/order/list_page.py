"""My orders: a signed-in member's orders, newest first, each with its payment state."""

from __future__ import annotations

import reflex as rx

from backend.domain.money import Money
from backend.services import orders
from backend.services.errors import NotFound
from portal import routes
from portal.components.layout import portal_shell
from portal.i18n import t
from portal.pages.order.page import order_status_text
from portal.state.portal import PortalState


class MyOrdersState(PortalState):
    rows: list[dict[str, str]] = []

    @rx.event
    def load_orders(self):
        try:
            views = orders.member_orders(self._principal())
        except NotFound:
            self.rows = []
            return rx.redirect(routes.SIGN_IN)
        self.rows = [
            {
                "reference": v.reference,
                "status": v.status,
                "total": Money(v.total_minor, v.currency).format(),
                "recipient": f"{v.details['recipient']['name']} · {v.details['recipient']['city']}",
                "tracking": v.tracking_number,
                "created": v.created_at.strftime("%Y-%m-%d"),
            }
            for v in views
        ]


def my_orders_page() -> rx.Component:
    keys = ("order_reference", "status", "recipient", "total", "tracking_number", "created")
    return portal_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(t("nav_orders"), size="7", as_="h1"),
                rx.link(rx.button(t("nav_ship")), href=routes.SHIP),
                justify="between",
                width="100%",
                align="center",
            ),
            rx.cond(
                MyOrdersState.rows.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(*[rx.table.column_header_cell(t(k)) for k in keys])
                        ),
                        rx.table.body(
                            rx.foreach(
                                MyOrdersState.rows,
                                lambda r: rx.table.row(
                                    rx.table.row_header_cell(
                                        rx.link(
                                            rx.code(r["reference"]),
                                            href="/orders/" + r["reference"],
                                        )
                                    ),
                                    rx.table.cell(order_status_text(r["status"])),
                                    rx.table.cell(r["recipient"]),
                                    rx.table.cell(r["total"]),
                                    rx.table.cell(
                                        rx.cond(
                                            r["tracking"] != "",
                                            rx.link(r["tracking"], href="/track/" + r["tracking"]),
                                            "—",
                                        )
                                    ),
                                    rx.table.cell(r["created"]),
                                ),
                            )
                        ),
                        variant="surface",
                        width="100%",
                        data_testid="my-orders",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text(t("no_orders")),
            ),
            spacing="4",
            width="100%",
        )
    )
