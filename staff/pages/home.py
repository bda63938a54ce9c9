"""Staff overview: the figures of the chosen tenant that this role may see."""

from __future__ import annotations

import reflex as rx

from backend.services import dashboard
from backend.services.errors import NotFound, PermissionDenied
from portal.i18n import status_label, t
from staff.components.layout import staff_shell
from staff.state.staff import StaffState


class StaffHomeState(StaffState):
    allowed: bool = True
    status_counts: list[dict[str, str]] = []
    shipments_total: str = "0"
    figures: list[dict[str, str]] = []  # label key, value, test id

    @rx.event
    def load_dashboard(self):
        principal = self._principal()
        if principal is None or not self.tenant_slug:
            return
        try:
            board = dashboard.staff_dashboard(principal, self.tenant_slug)
        except (PermissionDenied, NotFound):
            self.allowed, self.status_counts, self.figures = False, [], []
            return
        self.allowed = True
        counts = board.shipments_by_status or {}
        self.status_counts = [{"status": s, "count": str(n)} for s, n in sorted(counts.items())]
        self.shipments_total = str(sum(counts.values()))
        figures = []
        if board.open_quarantine is not None:
            figures.append(("card_quarantine", str(board.open_quarantine), "quarantine"))
        if board.payments_last_7_days is not None:
            revenue = " · ".join(m.format() for m in board.revenue_last_7_days or []) or "—"
            figures += [
                ("card_payments", str(board.payments_last_7_days), "payments"),
                ("card_revenue", revenue, "revenue"),
                ("card_refunds", str(board.refunds_last_7_days), "refunds"),
            ]
        if board.failed_webhooks is not None:
            figures.append(("card_webhooks", str(board.failed_webhooks), "webhooks"))
        if board.staff_count is not None:
            figures += [
                ("card_staff", str(board.staff_count), "staff"),
                ("card_audit", str(board.audit_events_today), "audit"),
            ]
        self.figures = [{"key": k, "value": v, "id": i} for k, v, i in figures]


def _figure_label(key: rx.Var) -> rx.Component:
    keys = [
        "card_quarantine",
        "card_payments",
        "card_revenue",
        "card_refunds",
        "card_webhooks",
        "card_staff",
        "card_audit",
    ]
    return rx.match(key, *[(k, t(k)) for k in keys], key)


def staff_home_page() -> rx.Component:
    return staff_shell(
        rx.vstack(
            rx.heading(t("nav_home"), size="6", as_="h1"),
            rx.cond(
                StaffHomeState.allowed,
                rx.vstack(
                    rx.card(
                        rx.heading(t("card_shipments"), size="3", as_="h2"),
                        rx.hstack(
                            rx.foreach(
                                StaffHomeState.status_counts,
                                lambda row: rx.badge(
                                    status_label(row["status"]),
                                    ": ",
                                    row["count"],
                                    size="2",
                                    variant="soft",
                                ),
                            ),
                            wrap="wrap",
                            spacing="2",
                            margin_top="2",
                        ),
                        rx.text(
                            t("total"),
                            ": ",
                            StaffHomeState.shipments_total,
                            size="2",
                            margin_top="2",
                            data_testid="shipments-total",
                        ),
                        width="100%",
                        data_testid="card-shipments",
                    ),
                    rx.grid(
                        rx.foreach(
                            StaffHomeState.figures,
                            lambda f: rx.card(
                                rx.text(_figure_label(f["key"]), size="2", color_scheme="gray"),
                                rx.heading(f["value"], size="6"),
                                data_testid="card-" + f["id"],
                            ),
                        ),
                        columns=rx.breakpoints(initial="1", sm="2", md="3"),
                        spacing="3",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                rx.callout(t("not_allowed"), icon="ban", color_scheme="red"),
            ),
            spacing="4",
            width="100%",
        )
    )
