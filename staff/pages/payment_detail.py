"""One payment for staff: its refunds and webhook events; finance refunds part or all of it here."""

from __future__ import annotations

from uuid import UUID

import reflex as rx

from backend.domain.money import Money, parse_amount
from backend.services import refunds, transactions
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from portal.components.forms import field
from portal.i18n import t, translate
from portal.pages.order.page import payment_status_text
from staff.components.layout import staff_shell
from staff.components.listing import not_allowed
from staff.pages.payments import payment_row
from staff.state.staff import StaffState

_REFUND_STATUSES = ("requested", "pending", "succeeded", "failed")


def refund_status_text(status: rx.Var) -> rx.Var:
    return rx.match(status, *[(s, t(f"refund.{s}")) for s in _REFUND_STATUSES], status)


def inbox_row(e: transactions.InboxRow) -> dict[str, str]:
    return {
        "id": str(e.id),
        "provider": e.provider,
        "event_id": e.event_id,
        "type": e.event_type,
        "state": e.state,
        "attempts": str(e.attempts),
        "error": e.last_error,
        "received": e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
    }


class StaffPaymentState(StaffState):
    found: bool = True
    payment: dict[str, str] = {}
    refunds: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    refundable: str = ""
    can_refund_this: bool = False
    amount_error: str = ""
    reason_error: str = ""
    notice: str = ""
    _payment_id: str = ""
    _currency: str = "HKD"

    def _fetch(self) -> None:
        try:
            payment_id = UUID(str(self.router.page.params.get("payment_id", "")))
            detail = transactions.payment_detail(self._principal(), self.tenant_slug, payment_id)
        except (ValueError, NotFound, PermissionDenied):
            self.found, self.payment, self.refunds, self.events = False, {}, [], []
            return
        self.found, self._payment_id, self._currency = True, str(payment_id), detail.row.currency
        self.payment = {
            **payment_row(detail.row),
            "provider_reference": detail.provider_reference,
            "failure": detail.failure_reason,
        }
        self.refunds = [
            {
                "amount": Money(r.amount_minor, detail.row.currency).format(),
                "status": r.status,
                "reference": r.provider_reference,
                "reason": r.reason,
                "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for r in detail.refunds
        ]
        self.events = [inbox_row(e) for e in detail.events]
        self.refundable = Money(detail.refundable_minor, detail.row.currency).format()
        self.can_refund_this = self.can_refund and detail.refundable_minor > 0

    @rx.event
    def load_payment(self):
        self.notice, self.amount_error, self.reason_error = "", "", ""
        self._fetch()

    @rx.event
    def refund(self, form: dict):
        self.notice, self.amount_error, self.reason_error = "", "", ""
        amount = parse_amount(str(form.get("refund_amount", ""))[:40], self._currency)
        if amount is None:
            self.amount_error = translate("amount_invalid", self.locale)
            return
        try:
            requested = refunds.request_refund(
                self._principal(),
                self.tenant_slug,
                UUID(self._payment_id),
                amount,
                str(form.get("refund_reason", ""))[:1000],
            )
        except ValidationFailed as failure:
            self.amount_error = (
                translate(failure.fields.get("amount", ""), self.locale)
                if "amount" in failure.fields
                else ""
            )
            self.reason_error = (
                translate(failure.fields.get("reason", ""), self.locale)
                if "reason" in failure.fields
                else ""
            )
            return
        except (PermissionDenied, NotFound):
            self.amount_error = translate("not_allowed", self.locale)
            return
        self.notice = translate(
            "refund_requested_notice",
            self.locale,
            amount=Money(requested.amount_minor, requested.currency).format(),
        )
        self._fetch()

    @rx.event
    def replay(self, inbox_id: str):
        try:
            transactions.replay_webhook(self._principal(), self.tenant_slug, UUID(inbox_id))
        except (ValueError, NotFound, PermissionDenied):
            return
        self.notice = translate("replayed_notice", self.locale)
        self._fetch()


def _summary() -> rx.Component:
    p = StaffPaymentState.payment
    return rx.data_list.root(
        *[
            rx.data_list.item(rx.data_list.label(t(label)), rx.data_list.value(value))
            for label, value in (
                ("order_reference", rx.code(p["order"])),
                ("provider", p["provider"]),
                ("provider_reference", rx.code(p["provider_reference"])),
                (
                    "status",
                    rx.badge(payment_status_text(p["status"]), data_testid="staff-payment-status"),
                ),
                ("amount", p["amount"]),
                ("refunded_amount", rx.text(p["refunded"], data_testid="staff-refunded")),
                (
                    "refundable",
                    rx.text(StaffPaymentState.refundable, data_testid="staff-refundable"),
                ),
                ("customer", p["customer"]),
                ("created", p["created"]),
                ("failure_reason", p["failure"]),
            )
        ]
    )


def _refund_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            field(
                "refund_amount",
                "refund_amount",
                StaffPaymentState.amount_error,
                input_mode="decimal",
            ),
            field("refund_reason", "refund_reason", StaffPaymentState.reason_error),
            rx.button(t("refund"), type="submit", data_testid="refund-submit", margin_top="6"),
            align="start",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        on_submit=StaffPaymentState.refund,
        reset_on_submit=True,
        no_validate=True,
        width="100%",
    )


def _refunds() -> rx.Component:
    return rx.cond(
        StaffPaymentState.refunds.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(t(k))
                        for k in (
                            "created",
                            "amount",
                            "status",
                            "provider_reference",
                            "refund_reason",
                        )
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    StaffPaymentState.refunds,
                    lambda r: rx.table.row(
                        rx.table.cell(r["created"]),
                        rx.table.cell(r["amount"]),
                        rx.table.cell(
                            rx.badge(refund_status_text(r["status"]), data_testid="refund-status")
                        ),
                        rx.table.cell(rx.code(r["reference"])),
                        rx.table.cell(r["reason"]),
                    ),
                )
            ),
            variant="surface",
            size="1",
            width="100%",
            data_testid="refunds-table",
        ),
        rx.text(t("no_refunds")),
    )


def events_table(rows: rx.Var, on_replay, can_replay: rx.Var) -> rx.Component:
    """Webhook inbox rows with a replay button (shared with the webhooks page)."""
    keys = ("received_at", "provider", "event_type", "status", "attempts", "last_error", "replay")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k)) for k in keys])),
        rx.table.body(
            rx.foreach(
                rows,
                lambda e: rx.table.row(
                    rx.table.cell(e["received"]),
                    rx.table.cell(e["provider"]),
                    rx.table.cell(
                        rx.code(e["type"]),
                        " ",
                        rx.text(e["event_id"], size="1", color_scheme="gray"),
                    ),
                    rx.table.cell(
                        rx.badge(
                            rx.match(
                                e["state"],
                                ("received", t("webhook.received")),
                                ("processed", t("webhook.processed")),
                                ("failed", t("webhook.failed")),
                                ("waiting", t("webhook.waiting")),
                                e["state"],
                            ),
                            color_scheme=rx.match(
                                e["state"], ("processed", "green"), ("failed", "red"), "amber"
                            ),
                        )
                    ),
                    rx.table.cell(e["attempts"]),
                    rx.table.cell(rx.text(e["error"], size="1")),
                    rx.table.cell(
                        rx.cond(
                            can_replay,
                            rx.button(
                                t("replay"),
                                size="1",
                                variant="outline",
                                on_click=on_replay(e["id"]),
                                data_testid="replay",
                            ),
                        )
                    ),
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
        data_testid="events-table",
    )


def staff_payment_page() -> rx.Component:
    return staff_shell(
        rx.cond(
            StaffPaymentState.found,
            rx.vstack(
                rx.heading(t("payment_detail"), size="6", as_="h1"),
                rx.cond(
                    StaffPaymentState.notice != "",
                    rx.callout(StaffPaymentState.notice, icon="info", data_testid="notice"),
                ),
                _summary(),
                rx.heading(t("refunds"), size="4", as_="h2"),
                _refunds(),
                rx.cond(StaffPaymentState.can_refund_this, _refund_form()),
                rx.heading(t("events"), size="4", as_="h2"),
                rx.box(
                    events_table(
                        StaffPaymentState.events,
                        StaffPaymentState.replay,
                        StaffPaymentState.can_replay,
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            not_allowed(),
        )
    )
