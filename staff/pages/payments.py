"""A tenant's payments for staff: filters by status and provider, keyset paging on the server."""

from __future__ import annotations

import reflex as rx

from backend.domain.money import Money
from backend.domain.statuses import PaymentStatus
from backend.integrations.payments.registry import PROVIDERS
from backend.services import transactions
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from portal.i18n import t
from portal.pages.order.page import payment_status_text
from staff.components.layout import staff_shell
from staff.components.listing import pager, rows_or_empty, when_allowed
from staff.state.paged import PagedStaffState

PAGE_SIZE = 25


def payment_row(r: transactions.PaymentRow) -> dict[str, str]:
    return {
        "id": str(r.id),
        "order": r.order_reference,
        "provider": r.provider,
        "status": r.status,
        "amount": Money(r.amount_minor, r.currency).format(),
        "refunded": Money(r.refunded_minor, r.currency).format() if r.refunded_minor else "",
        "customer": r.customer,
        "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
    }


class StaffPaymentsState(PagedStaffState):
    rows: list[dict[str, str]] = []
    status_filter: str = ""
    provider_filter: str = ""

    def _fetch(self) -> None:
        try:
            page = transactions.list_payments(
                self._principal(),
                self.tenant_slug,
                status=self.status_filter,
                provider=self.provider_filter,
                after=self._cursor,
                limit=PAGE_SIZE,
            )
        except (PermissionDenied, NotFound, ValidationFailed):
            self.allowed, self.rows, self.has_next = False, [], False
            return
        self.allowed = True
        self.rows = [payment_row(r) for r in page.rows]
        self._page_read(page.next_cursor)

    @rx.event
    def load_rows(self):
        self._cursor = None
        self._fetch()

    @rx.event
    def filter_status(self, status: str):
        self.status_filter = status if status in {s.value for s in PaymentStatus} else ""
        self._cursor = None
        self._fetch()

    @rx.event
    def filter_provider(self, provider: str):
        self.provider_filter = provider if provider in PROVIDERS else ""
        self._cursor = None
        self._fetch()


def _filters() -> rx.Component:
    return rx.hstack(
        rx.el.select(
            rx.el.option(t("all_payment_statuses"), value=""),
            *[
                rx.el.option(payment_status_text(rx.Var.create(s.value)), value=s.value)
                for s in PaymentStatus
            ],
            value=StaffPaymentsState.status_filter,
            on_change=StaffPaymentsState.filter_status,
            aria_label=t("status"),
            class_name="select-input",
            data_testid="payment-status-filter",
        ),
        rx.el.select(
            rx.el.option(t("all_providers"), value=""),
            *[rx.el.option(p, value=p) for p in PROVIDERS],
            value=StaffPaymentsState.provider_filter,
            on_change=StaffPaymentsState.filter_provider,
            aria_label=t("provider"),
            class_name="select-input",
            data_testid="provider-filter",
        ),
        spacing="3",
    )


def _table() -> rx.Component:
    keys = (
        "created",
        "order_reference",
        "provider",
        "status",
        "amount",
        "refunded_amount",
        "customer",
    )
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k)) for k in keys])),
        rx.table.body(
            rx.foreach(
                StaffPaymentsState.rows,
                lambda r: rx.table.row(
                    rx.table.cell(
                        rx.link(
                            r["created"],
                            href="/staff/payments/" + r["id"],
                            data_testid="open-payment",
                        )
                    ),
                    rx.table.row_header_cell(rx.code(r["order"])),
                    rx.table.cell(r["provider"]),
                    rx.table.cell(rx.badge(payment_status_text(r["status"]))),
                    rx.table.cell(r["amount"]),
                    rx.table.cell(r["refunded"]),
                    rx.table.cell(r["customer"]),
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
        data_testid="payments-table",
    )


def staff_payments_page() -> rx.Component:
    return staff_shell(
        rx.vstack(
            rx.heading(t("nav_payments"), size="6", as_="h1"),
            rx.text(t("payments_intro"), size="2", color_scheme="gray"),
            when_allowed(
                StaffPaymentsState.allowed,
                _filters(),
                rows_or_empty(StaffPaymentsState.rows, _table()),
                pager(StaffPaymentsState),
            ),
            spacing="4",
            width="100%",
        )
    )
