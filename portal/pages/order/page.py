"""One order: choose how to pay while it awaits payment; afterwards its receipt, updated live."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_shell
from portal.i18n import t
from portal.pages.order.state import OrderState
from portal.pages.ship.review import quote_table

_ORDER_STATUSES = (
    "awaiting_payment",
    "paid",
    "partially_refunded",
    "refunded",
    "cancelled",
    "draft",
)
_PAYMENT_STATUSES = ("created", "pending", "authorized", "succeeded", "failed", "cancelled")


def order_status_text(status: rx.Var) -> rx.Var:
    return rx.match(status, *[(s, t(f"order.{s}")) for s in _ORDER_STATUSES], status)


def payment_status_text(status: rx.Var) -> rx.Var:
    return rx.match(status, *[(s, t(f"payment.{s}")) for s in _PAYMENT_STATUSES], status)


def _status_badge() -> rx.Component:
    colour = rx.match(
        OrderState.status,
        ("paid", "green"),
        ("partially_refunded", "orange"),
        ("refunded", "gray"),
        ("cancelled", "gray"),
        "amber",
    )
    return rx.badge(
        order_status_text(OrderState.status),
        color_scheme=colour,
        size="3",
        variant="soft",
        high_contrast=True,
        data_testid="order-status",
        aria_live="polite",
    )


def _party(key: str, party: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t(key), weight="bold"),
            rx.text(party["name"], " · ", party["phone"]),
            rx.text(party["address"]),
            spacing="1",
            align="start",
        ),
        width="100%",
    )


def _provider_button(provider: rx.Var) -> rx.Component:
    return rx.button(
        t("pay_with"),
        " ",
        provider["name"],
        on_click=OrderState.pay(provider["slug"]),
        loading=OrderState.paying == provider["slug"],
        disabled=OrderState.paying != "",
        size="3",
        variant="outline",
        data_testid="pay-" + provider["slug"],
        width="100%",
    )


def _checkout() -> rx.Component:
    return rx.vstack(
        rx.match(
            OrderState.notice,
            (
                "cancelled",
                rx.callout(t("payment_cancelled_notice"), icon="info", data_testid="notice"),
            ),
            (
                "failed",
                rx.callout(
                    t("payment_failed_notice"),
                    icon="triangle_alert",
                    color_scheme="red",
                    data_testid="notice",
                ),
            ),
            rx.fragment(),
        ),
        rx.cond(
            OrderState.error != "",
            rx.callout(
                OrderState.error,
                icon="triangle_alert",
                color_scheme="red",
                role="alert",
                data_testid="pay-error",
            ),
        ),
        rx.heading(t("choose_payment"), size="4", as_="h2"),
        rx.grid(
            rx.foreach(OrderState.providers, _provider_button),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
            data_testid="providers",
        ),
        rx.cond(
            OrderState.payments.length() > 0,
            rx.text(t("waiting_for_payment"), size="2", color_scheme="gray"),
        ),
        # A fallback for a lost push: look again every 10 s while payment is awaited.
        rx.moment(interval=10_000, on_change=OrderState.refresh, display="none"),
        spacing="3",
        width="100%",
    )


def _receipt() -> rx.Component:
    return rx.vstack(
        rx.callout(
            t("paid_thanks"), icon="circle_check", color_scheme="green", data_testid="paid-notice"
        ),
        rx.cond(
            OrderState.paid_at != "", rx.text(t("paid_at"), ": ", OrderState.paid_at, size="2")
        ),
        rx.cond(
            OrderState.tracking_number != "",
            rx.hstack(
                rx.text(t("tracking_number"), ": "),
                rx.code(OrderState.tracking_number, data_testid="order-tracking-number"),
                rx.link(t("track_this_parcel"), href="/track/" + OrderState.tracking_number),
                align="center",
                wrap="wrap",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _payments() -> rx.Component:
    return rx.cond(
        OrderState.payments.length() > 0,
        rx.vstack(
            rx.heading(t("payments"), size="4", as_="h2"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(t(k))
                            for k in ("provider", "status", "amount", "refunded_amount")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        OrderState.payments,
                        lambda p: rx.table.row(
                            rx.table.cell(p["provider"]),
                            rx.table.cell(
                                payment_status_text(p["status"]), data_testid="payment-status"
                            ),
                            rx.table.cell(p["amount"]),
                            rx.table.cell(p["refunded"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
                data_testid="payments",
            ),
            width="100%",
        ),
    )


def order_page() -> rx.Component:
    return portal_shell(
        rx.cond(
            OrderState.found,
            rx.vstack(
                rx.hstack(
                    rx.heading(
                        t("order_reference"),
                        " ",
                        rx.code(OrderState.reference, data_testid="order-reference"),
                        size="7",
                        as_="h1",
                    ),
                    _status_badge(),
                    align="center",
                    wrap="wrap",
                    spacing="3",
                ),
                rx.cond(OrderState.status == "awaiting_payment", _checkout(), _receipt()),
                rx.grid(
                    _party("sender", OrderState.sender),
                    _party("recipient", OrderState.recipient),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.card(
                    rx.vstack(
                        rx.text(t("parcels"), weight="bold"),
                        rx.foreach(OrderState.parcels, rx.text),
                        spacing="1",
                        align="start",
                    ),
                    width="100%",
                ),
                quote_table(OrderState.quote_lines, OrderState.total),
                _payments(),
                spacing="4",
                width="100%",
            ),
            rx.callout(t("order_not_found"), icon="circle_help", data_testid="order-not-found"),
        )
    )
