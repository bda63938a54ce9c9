"""Carrier accounts for staff: load against each limit, 429s, errors, breaker, and unknown codes."""

from __future__ import annotations

import reflex as rx

from backend.services import carrier_status
from backend.services.errors import NotFound, PermissionDenied
from portal.i18n import t
from staff.components.layout import staff_shell
from staff.components.listing import not_allowed
from staff.state.staff import StaffState


class StaffCarriersState(StaffState):
    allowed: bool = True
    accounts: list[dict[str, str]] = []
    unknown_codes: list[dict[str, str]] = []

    @rx.event
    def load_accounts(self):
        try:
            overview = carrier_status.carrier_overview(self._principal(), self.tenant_slug)
        except (PermissionDenied, NotFound):
            self.allowed, self.accounts, self.unknown_codes = False, [], []
            return
        self.allowed = True
        self.accounts = [
            {
                "carrier": a.carrier,
                "slug": a.carrier_slug,
                "style": a.api_style,
                "load": f"{a.requests_per_second:.1f} / {a.rate_limit_per_second:g}",
                "peak": str(a.peak_per_second),
                "ok": str(a.ok),
                "limited": str(a.rate_limited),
                "errors": str(a.errors + a.timeouts),
                "breaker": a.breaker,
                "last_sync": a.last_sync_at.strftime("%Y-%m-%d %H:%M:%S")
                if a.last_sync_at
                else "—",
                "active": str(a.active_shipments),
            }
            for a in overview
        ]
        self.unknown_codes = [
            {
                "carrier": a.carrier,
                "code": u.raw_code,
                "events": str(u.events),
                "last_seen": u.last_seen.strftime("%Y-%m-%d %H:%M"),
            }
            for a in overview
            for u in a.unknown_codes
        ]


def _breaker_badge(state: rx.Var) -> rx.Component:
    colour = rx.match(state, ("closed", "green"), ("half_open", "amber"), "red")
    return rx.badge(state, color_scheme=colour, variant="soft", data_testid="breaker")


def staff_carriers_page() -> rx.Component:
    columns = (
        "carrier",
        "carrier_mode",
        "load_vs_limit",
        "peak_second",
        "ok_requests",
        "answered_429",
        "errors",
        "breaker",
        "last_sync",
        "active_shipments",
    )
    return staff_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(t("nav_carriers"), size="6", as_="h1"),
                rx.button(
                    t("refresh"),
                    on_click=StaffCarriersState.load_accounts,
                    size="1",
                    variant="outline",
                    data_testid="refresh",
                ),
                align="center",
            ),
            rx.text(t("carriers_intro"), size="2", color_scheme="gray"),
            rx.cond(
                StaffCarriersState.allowed,
                rx.vstack(
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(*[rx.table.column_header_cell(t(c)) for c in columns])
                            ),
                            rx.table.body(
                                rx.foreach(
                                    StaffCarriersState.accounts,
                                    lambda a: rx.table.row(
                                        rx.table.row_header_cell(a["carrier"]),
                                        rx.table.cell(a["style"]),
                                        rx.table.cell(a["load"]),
                                        rx.table.cell(a["peak"]),
                                        rx.table.cell(a["ok"]),
                                        rx.table.cell(a["limited"]),
                                        rx.table.cell(a["errors"]),
                                        rx.table.cell(_breaker_badge(a["breaker"])),
                                        rx.table.cell(a["last_sync"]),
                                        rx.table.cell(a["active"]),
                                    ),
                                )
                            ),
                            variant="surface",
                            size="1",
                            width="100%",
                            data_testid="carrier-accounts",
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    rx.heading(t("unknown_codes"), size="4", as_="h2"),
                    rx.text(t("unknown_codes_intro"), size="2", color_scheme="gray"),
                    rx.cond(
                        StaffCarriersState.unknown_codes.length() > 0,
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(t(c))
                                        for c in ("carrier", "raw_code", "events", "last_seen")
                                    ]
                                )
                            ),
                            rx.table.body(
                                rx.foreach(
                                    StaffCarriersState.unknown_codes,
                                    lambda u: rx.table.row(
                                        rx.table.cell(u["carrier"]),
                                        rx.table.cell(rx.code(u["code"])),
                                        rx.table.cell(u["events"]),
                                        rx.table.cell(u["last_seen"]),
                                    ),
                                )
                            ),
                            variant="surface",
                            size="1",
                            data_testid="unknown-codes",
                        ),
                        rx.text(t("no_rows")),
                    ),
                    spacing="3",
                    width="100%",
                ),
                not_allowed(),
            ),
            spacing="4",
            width="100%",
        )
    )
