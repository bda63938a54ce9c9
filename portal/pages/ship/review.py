"""Review an order before it is placed: who, what, which service, and the price line by line."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_shell
from portal.i18n import t, t_format
from portal.pages.ship.state import ShipState


def _value(name: str) -> rx.Var:
    return ShipState.values.get(name, "")


def _address(side: str) -> rx.Component:
    p = side + "_"
    return rx.card(
        rx.vstack(
            rx.text(t(side), weight="bold"),
            rx.text(_value(p + "name"), " · ", _value(p + "phone")),
            rx.text(_value(p + "line1"), " ", _value(p + "line2")),
            rx.text(_value(p + "district"), " ", _value(p + "city"), " ", _value(p + "postcode")),
            rx.match(
                _value(p + "country"),
                ("MO", rx.text(t("country.MO"))),
                ("CN", rx.text(t("country.CN"))),
                rx.text(t("country.HK")),
            ),
            spacing="1",
            align="start",
        ),
        data_testid=f"review-{side}",
        width="100%",
    )


def quote_table(lines: rx.Var, total: rx.Var) -> rx.Component:
    """The price, line by line (shared with the order page)."""
    return rx.table.root(
        rx.table.body(
            rx.foreach(
                lines,
                lambda line: rx.table.row(
                    rx.table.cell(
                        rx.match(
                            line["code"],
                            ("freight", t("quote.freight")),
                            ("fuel", t("quote.fuel")),
                            ("remote_area", t("quote.remote_area")),
                            ("oversize", t("quote.oversize")),
                            ("insurance", t("quote.insurance")),
                            ("points", t("quote.points")),
                            line["code"],
                        )
                    ),
                    rx.table.cell(line["amount"], text_align="right"),
                ),
            ),
            rx.table.row(
                rx.table.row_header_cell(t("total")),
                rx.table.cell(rx.text.strong(total, data_testid="quote-total"), text_align="right"),
            ),
        ),
        variant="surface",
        width="100%",
        data_testid="quote",
    )


def review_page() -> rx.Component:
    return portal_shell(
        rx.vstack(
            rx.heading(t("review_title"), size="7", as_="h1"),
            rx.grid(
                _address("sender"),
                _address("recipient"),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.card(
                rx.vstack(
                    rx.text(t("parcels"), weight="bold"),
                    rx.foreach(
                        ShipState.parcels,
                        lambda p: rx.text(
                            p["weight_kg"],
                            " kg · ",
                            p["length_cm"],
                            "×",
                            p["width_cm"],
                            "×",
                            p["height_cm"],
                            " cm",
                            rx.cond(p["contents"] != "", " · " + p["contents"], ""),
                        ),
                    ),
                    rx.text(
                        t("service_level"),
                        ": ",
                        rx.match(
                            _value("service_level"),
                            ("economy", t("service.economy")),
                            ("express", t("service.express")),
                            t("service.standard"),
                        ),
                    ),
                    rx.cond(
                        ShipState.transit_days == 0,
                        rx.text(t("transit_same_day"), color_scheme="gray"),
                        rx.text(
                            t_format("transit_days", days=ShipState.transit_days),
                            color_scheme="gray",
                        ),
                    ),
                    spacing="1",
                    align="start",
                ),
                width="100%",
            ),
            rx.heading(t("quote"), size="4", as_="h2"),
            quote_table(ShipState.quote_lines, ShipState.quote_total),
            rx.hstack(
                rx.button(
                    t("edit_order"),
                    variant="outline",
                    on_click=ShipState.edit,
                    data_testid="edit-order",
                ),
                rx.button(
                    t("confirm_order"),
                    on_click=ShipState.place,
                    loading=ShipState.placing,
                    size="3",
                    data_testid="confirm-order",
                ),
                spacing="3",
            ),
            spacing="4",
            width="100%",
        )
    )
