"""The webhook inbox for staff (every delivery, its state and error; replay), and the
reconciler's open disagreements with providers."""

from __future__ import annotations

from uuid import UUID

import reflex as rx

from backend.domain.statuses import WebhookState
from backend.services import transactions
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from portal.i18n import t, translate
from staff.components.layout import staff_shell
from staff.components.listing import not_allowed, pager
from staff.pages.payment_detail import events_table, inbox_row
from staff.state.paged import PagedStaffState
from staff.state.staff import StaffState

PAGE_SIZE = 50
_ISSUE_KINDS = (
    "status",
    "amount",
    "refunded",
    "refund_status",
    "refund_outside_waybill",
    "duplicate_payment",
)


class StaffWebhooksState(PagedStaffState):
    rows: list[dict[str, str]] = []
    issues: list[dict[str, str]] = []
    state_filter: str = ""
    notice: str = ""

    def _fetch(self) -> None:
        principal = self._principal()
        try:
            rows, cursor = transactions.list_webhooks(
                principal,
                self.tenant_slug,
                state=self.state_filter,
                after=self._cursor,
                limit=PAGE_SIZE,
            )
            issues = transactions.open_issues(principal, self.tenant_slug)
        except (PermissionDenied, NotFound, ValidationFailed):
            self.allowed, self.rows, self.issues = False, [], []
            return
        self.allowed = True
        self.rows = [inbox_row(r) for r in rows]
        self._page_read(cursor)
        self.issues = [
            {
                "id": str(i.id),
                "payment_id": str(i.payment_id),
                "kind": i.kind,
                "ours": i.ours,
                "theirs": i.theirs,
                "detected": i.detected_at.strftime("%Y-%m-%d %H:%M"),
            }
            for i in issues
        ]

    @rx.event
    def load_rows(self):
        self._cursor, self.notice = None, ""
        self._fetch()

    @rx.event
    def filter_state(self, state: str):
        self.state_filter = state if state in {s.value for s in WebhookState} else ""
        self._cursor = None
        self._fetch()

    @rx.event
    def replay(self, inbox_id: str):
        try:
            transactions.replay_webhook(self._principal(), self.tenant_slug, UUID(inbox_id))
        except (ValueError, NotFound, PermissionDenied):
            return
        self.notice = translate("replayed_notice", self.locale)
        self._fetch()

    @rx.event
    def resolve(self, issue_id: str):
        try:
            transactions.resolve_issue(self._principal(), self.tenant_slug, UUID(issue_id))
        except (ValueError, NotFound, PermissionDenied):
            return
        self._fetch()


def _issues() -> rx.Component:
    keys = ("detected", "issue_kind", "ours", "theirs", "payment_detail", "resolve")
    return rx.cond(
        StaffWebhooksState.issues.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k)) for k in keys])),
            rx.table.body(
                rx.foreach(
                    StaffWebhooksState.issues,
                    lambda i: rx.table.row(
                        rx.table.cell(i["detected"]),
                        rx.table.cell(
                            rx.match(
                                i["kind"], *[(k, t(f"issue.{k}")) for k in _ISSUE_KINDS], i["kind"]
                            )
                        ),
                        rx.table.cell(rx.code(i["ours"])),
                        rx.table.cell(rx.code(i["theirs"])),
                        rx.table.cell(
                            rx.link(t("open"), href="/staff/payments/" + i["payment_id"])
                        ),
                        rx.table.cell(
                            rx.cond(
                                StaffState.can_refund,
                                rx.button(
                                    t("resolve"),
                                    size="1",
                                    variant="outline",
                                    on_click=StaffWebhooksState.resolve(i["id"]),
                                ),
                            )
                        ),
                    ),
                )
            ),
            variant="surface",
            size="1",
            width="100%",
            data_testid="issues-table",
        ),
        rx.text(t("no_issues")),
    )


def staff_webhooks_page() -> rx.Component:
    return staff_shell(
        rx.vstack(
            rx.heading(t("nav_webhooks"), size="6", as_="h1"),
            rx.text(t("webhooks_intro"), size="2", color_scheme="gray"),
            rx.cond(
                StaffWebhooksState.allowed,
                rx.vstack(
                    rx.cond(
                        StaffWebhooksState.notice != "",
                        rx.callout(StaffWebhooksState.notice, icon="info"),
                    ),
                    rx.heading(t("issues"), size="4", as_="h2"),
                    rx.text(t("issues_intro"), size="2", color_scheme="gray"),
                    _issues(),
                    rx.heading(t("nav_webhooks"), size="4", as_="h2"),
                    rx.el.select(
                        rx.el.option(t("all_webhook_states"), value=""),
                        *[
                            rx.el.option(t(f"webhook.{s.value}"), value=s.value)
                            for s in WebhookState
                        ],
                        value=StaffWebhooksState.state_filter,
                        on_change=StaffWebhooksState.filter_state,
                        aria_label=t("status"),
                        class_name="select-input",
                        data_testid="webhook-state-filter",
                    ),
                    rx.box(
                        events_table(
                            StaffWebhooksState.rows,
                            StaffWebhooksState.replay,
                            StaffState.can_replay,
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    pager(StaffWebhooksState),
                    spacing="3",
                    width="100%",
                ),
                not_allowed(),
            ),
            spacing="4",
            width="100%",
        )
    )
