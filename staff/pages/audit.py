"""The audit log of the chosen tenant (tenant and platform admins)."""

from __future__ import annotations

import reflex as rx

from backend.services import audit
from backend.services.errors import NotFound, PermissionDenied
from portal.i18n import t
from staff.components.layout import staff_shell
from staff.components.listing import not_allowed
from staff.state.staff import StaffState


class StaffAuditState(StaffState):
    allowed: bool = True
    entries: list[dict[str, str]] = []

    @rx.event
    def load_entries(self):
        try:
            rows = audit.list_recent(self._principal(), self.tenant_slug, limit=100)
        except (PermissionDenied, NotFound):
            self.allowed, self.entries = False, []
            return
        self.allowed = True
        self.entries = [
            {
                "when": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "action": r.action,
                "actor": r.actor,
                "target": r.target,
                "ip": r.ip,
            }
            for r in rows
        ]


def staff_audit_page() -> rx.Component:
    return staff_shell(
        rx.vstack(
            rx.heading(t("nav_audit"), size="6", as_="h1"),
            rx.cond(
                StaffAuditState.allowed,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(t(k))
                                    for k in ("when", "action", "actor", "target", "ip")
                                ]
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                StaffAuditState.entries,
                                lambda e: rx.table.row(
                                    rx.table.cell(e["when"]),
                                    rx.table.cell(rx.code(e["action"])),
                                    rx.table.cell(e["actor"]),
                                    rx.table.cell(e["target"]),
                                    rx.table.cell(e["ip"]),
                                ),
                            )
                        ),
                        variant="surface",
                        size="1",
                        width="100%",
                        data_testid="audit-table",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                not_allowed(),
            ),
            spacing="4",
            width="100%",
        )
    )
