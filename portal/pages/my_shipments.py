"""My shipments: everything a signed-in member sent or received, in every tenant, by status."""

from __future__ import annotations

import reflex as rx

from backend.domain.statuses import ShipmentStatus
from backend.services import members
from backend.services.errors import PermissionDenied, ValidationFailed
from portal import routes
from portal.components.layout import portal_shell
from portal.components.status_badge import status_badge
from portal.i18n import status_label, t
from portal.state.portal import PortalState


class MyShipmentsState(PortalState):
    rows: list[dict[str, str]] = []
    status_filter: str = ""

    def _fetch(self):
        try:
            lines = members.my_shipments(self._principal(), status=self.status_filter or None)
        except (PermissionDenied, ValidationFailed):
            self.rows = []
            return rx.redirect(routes.SIGN_IN)
        self.rows = [
            {
                "number": s.tracking_number,
                "tenant": s.tenant_name,
                "direction": s.direction,
                "status": s.status,
                "city": s.recipient_city,
                "created": s.created_at.strftime("%Y-%m-%d"),
            }
            for s in lines
        ]

    @rx.event
    def load_rows(self):
        return self._fetch()

    @rx.event
    def filter_status(self, status: str):
        self.status_filter = status if status in {s.value for s in ShipmentStatus} else ""
        return self._fetch()


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(rx.code(row["number"]), href="/track/" + row["number"])),
        rx.table.cell(row["tenant"]),
        rx.table.cell(rx.cond(row["direction"] == "sent", t("sent"), t("received"))),
        rx.table.cell(status_badge(row["status"], size="1")),
        rx.table.cell(row["city"]),
        rx.table.cell(row["created"]),
    )


def my_shipments_page() -> rx.Component:
    keys = ("tracking_number", "service", "direction", "status", "destination", "created")
    return portal_shell(
        rx.vstack(
            rx.heading(t("nav_my_shipments"), size="7", as_="h1"),
            rx.text(t("my_shipments_intro"), color_scheme="gray"),
            rx.el.select(
                rx.el.option(t("all_statuses"), value=""),
                *[
                    rx.el.option(status_label(rx.Var.create(s.value)), value=s.value)
                    for s in ShipmentStatus
                ],
                value=MyShipmentsState.status_filter,
                on_change=MyShipmentsState.filter_status,
                aria_label=t("filter_status"),
                data_testid="status-filter",
            ),
            rx.cond(
                MyShipmentsState.rows.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(*[rx.table.column_header_cell(t(k)) for k in keys])
                        ),
                        rx.table.body(rx.foreach(MyShipmentsState.rows, _row)),
                        variant="surface",
                        size="2",
                        width="100%",
                        data_testid="my-shipments",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text(t("no_shipments")),
            ),
            spacing="4",
            width="100%",
        )
    )
