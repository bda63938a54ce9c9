"""Customer home: a tracking box for everyone; the tenant's welcome for visitors; points and shipments for members."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from backend.services import members
from backend.services.errors import PermissionDenied
from portal import routes
from portal.components.layout import brand_name, brand_tagline, portal_shell
from portal.i18n import status_label, t
from portal.pages.track.state import MAX_QUERY_TEXT
from portal.state.portal import PortalState


class HomeState(PortalState):
    points: list[dict[str, str]] = []
    shipments: list[dict[str, str]] = []

    @rx.event
    def track(self, form: dict):
        """The home page's box: on to the tracking page, which looks the numbers up on load."""
        text = str(form.get("numbers", "")).strip()[:MAX_QUERY_TEXT]
        return rx.redirect(f"{routes.TRACK}?numbers={quote(text)}" if text else routes.TRACK)

    @rx.event
    def load_overview(self):
        try:
            overview = members.overview(self._principal())
        except PermissionDenied:
            self.points, self.shipments = [], []
            return
        self.points = [
            {
                "tenant": p.tenant_name,
                "balance": f"{p.balance:,}",
                "pending": f"{p.pending:,}",
                "tier": p.tier.title(),
            }
            for p in overview.points
        ]
        self.shipments = [
            {
                "number": s.tracking_number,
                "tenant": s.tenant_name,
                "direction": s.direction,
                "status": s.status,
                "city": s.recipient_city,
                "created": s.created_at.strftime("%Y-%m-%d"),
            }
            for s in overview.shipments
        ]


def _points_card() -> rx.Component:
    return rx.card(
        rx.heading(t("your_points"), size="4", as_="h2"),
        rx.cond(
            HomeState.points.length() > 0,
            rx.vstack(
                rx.foreach(
                    HomeState.points,
                    lambda p: rx.hstack(
                        rx.text(p["tenant"], weight="medium"),
                        rx.spacer(),
                        rx.badge(p["tier"], variant="soft"),
                        rx.text(
                            rx.text.strong(p["balance"]),
                            " ",
                            t("points"),
                            data_testid="points-balance",
                        ),
                        width="100%",
                        align="center",
                    ),
                ),
                spacing="2",
                margin_top="3",
            ),
            rx.text(t("no_points"), margin_top="3"),
        ),
    )


def _shipments_card() -> rx.Component:
    header = rx.table.header(
        rx.table.row(
            *[
                rx.table.column_header_cell(t(key))
                for key in (
                    "tracking_number",
                    "service",
                    "direction",
                    "status",
                    "destination",
                    "created",
                )
            ]
        )
    )
    body = rx.table.body(
        rx.foreach(
            HomeState.shipments,
            lambda s: rx.table.row(
                rx.table.row_header_cell(rx.code(s["number"])),
                rx.table.cell(s["tenant"]),
                rx.table.cell(rx.cond(s["direction"] == "sent", t("sent"), t("received"))),
                rx.table.cell(rx.badge(status_label(s["status"]))),
                rx.table.cell(s["city"]),
                rx.table.cell(s["created"]),
            ),
        )
    )
    return rx.card(
        rx.heading(t("your_shipments"), size="4", as_="h2"),
        rx.cond(
            HomeState.shipments.length() > 0,
            rx.box(
                rx.table.root(header, body, variant="surface", size="1"),
                overflow_x="auto",
                margin_top="3",
            ),
            rx.text(t("no_shipments"), margin_top="3"),
        ),
    )


def _track_box() -> rx.Component:
    """Tracking first: it is what most people come for, with or without an account."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.el.label(
                    t("track_numbers_label"), html_for="home-numbers", class_name="field-label"
                ),
                rx.hstack(
                    rx.input(
                        id="home-numbers",
                        name="numbers",
                        placeholder="WB123456785HK",
                        max_length=MAX_QUERY_TEXT,
                        auto_complete="off",
                        spell_check=False,
                        size="3",
                        flex="1",
                        min_width="14em",
                    ),
                    rx.button(
                        t("track_button"), type="submit", size="3", data_testid="home-track-submit"
                    ),
                    wrap="wrap",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=HomeState.track,
            reset_on_submit=False,
        ),
        width="100%",
        data_testid="home-track",
    )


def _visitor_welcome() -> rx.Component:
    return rx.vstack(
        rx.text(t("hero_cta_member"), size="4"),
        rx.hstack(
            rx.link(rx.button(t("sign_up"), size="3"), href=routes.SIGN_UP),
            rx.link(rx.button(t("sign_in"), size="3", variant="outline"), href=routes.SIGN_IN),
        ),
        spacing="4",
    )


def home_page() -> rx.Component:
    return portal_shell(
        rx.vstack(
            rx.heading(brand_name(), size="8", as_="h1"),
            rx.text(brand_tagline(), size="4", color_scheme="gray"),
            _track_box(),
            rx.cond(
                PortalState.signed_in,
                rx.vstack(
                    rx.heading(
                        t("welcome_back"),
                        ", ",
                        PortalState.display_name,
                        size="5",
                        as_="h2",
                        data_testid="welcome",
                    ),
                    _points_card(),
                    _shipments_card(),
                    spacing="4",
                    width="100%",
                ),
                _visitor_welcome(),
            ),
            spacing="5",
            width="100%",
        )
    )
