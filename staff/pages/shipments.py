"""A tenant's shipments for staff: status filter and keyset paging done on the server."""

from __future__ import annotations

import reflex as rx

from backend.domain.statuses import ShipmentStatus
from backend.services import shipment_queries
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from portal.i18n import status_label, t
from staff.components.layout import staff_shell
from staff.components.listing import pager, rows_or_empty, when_allowed
from staff.state.paged import PagedStaffState

PAGE_SIZE = 25


class StaffShipmentsState(PagedStaffState):
    rows: list[dict[str, str]] = []
    status_filter: str = ""

    def _fetch(self) -> None:
        principal = self._principal()
        try:
            page = shipment_queries.list_shipments(
                principal,
                self.tenant_slug,
                status=self.status_filter or None,
                after=self._cursor,
                limit=PAGE_SIZE,
            )
        except (PermissionDenied, NotFound, ValidationFailed):
            self.allowed, self.rows, self.has_next = False, [], False
            return
        self.allowed = True
        self.rows = [
            {
                "number": r.tracking_number,
                "status": r.status,
                "reason": r.status_reason,
                "recipient": r.recipient_name,
                "city": r.recipient_city,
                "service": r.service_level,
                "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for r in page.rows
        ]
        self._page_read(page.next_cursor)

    @rx.event
    def load_rows(self):
        self._cursor = None
        self._fetch()

    @rx.event
    def filter_status(self, status: str):
        self.status_filter = status if status in {s.value for s in ShipmentStatus} else ""
        self._cursor = None
        self._fetch()


def _filter() -> rx.Component:
    return rx.el.select(
        rx.el.option(t("all_statuses"), value=""),
        *[
            rx.el.option(status_label(rx.Var.create(s.value)), value=s.value)
            for s in ShipmentStatus
        ],
        value=StaffShipmentsState.status_filter,
        on_change=StaffShipmentsState.filter_status,
        aria_label=t("filter_status"),
        data_testid="status-filter",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in (
                        "tracking_number",
                        "status",
                        "recipient",
                        "city",
                        "service",
                        "created",
                    )
                ]
            )
        ),
        rx.table.body(
            rx.foreach(
                StaffShipmentsState.rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(rx.code(r["number"])),
                    rx.table.cell(rx.badge(status_label(r["status"]))),
                    rx.table.cell(r["recipient"]),
                    rx.table.cell(r["city"]),
                    rx.table.cell(r["service"]),
                    rx.table.cell(r["created"]),
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
        data_testid="shipments-table",
    )


def staff_shipments_page() -> rx.Component:
    return staff_shell(
        rx.vstack(
            rx.heading(t("nav_shipments"), size="6", as_="h1"),
            when_allowed(
                StaffShipmentsState.allowed,
                _filter(),
                rows_or_empty(StaffShipmentsState.rows, _table()),
                pager(StaffShipmentsState),
            ),
            spacing="4",
            width="100%",
        )
    )
