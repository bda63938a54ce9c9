"""Send a parcel: sender, recipient, parcels and service, each field's error next to it."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import field, form_error
from portal.components.layout import portal_shell
from portal.i18n import t
from portal.pages.ship.state import ShipState
from portal.state.portal import PortalState

COUNTRIES = ("HK", "MO", "CN")
SERVICES = ("economy", "standard", "express")


def _error(name: str | rx.Var) -> rx.Var:
    return ShipState.errors.get(name, "")


def _value(name: str | rx.Var) -> rx.Var:
    return ShipState.values.get(name, "")


def _input(label_key: str, name: str, **kwargs) -> rx.Component:
    return field(label_key, name, _error(name), default_value=_value(name), **kwargs)


def _country_select(side: str) -> rx.Component:
    name = f"{side}_country"
    return rx.vstack(
        rx.el.label(t("country"), html_for=name, class_name="field-label"),
        rx.el.select(
            *[rx.el.option(t(f"country.{c}"), value=c) for c in COUNTRIES],
            id=name,
            name=name,
            value=_value(name),
            on_change=lambda value: ShipState.set_country(side, value),
            class_name="select-input",
        ),
        rx.text(_error(name), role="alert", size="2", color_scheme="red", class_name="field-error"),
        spacing="1",
        width="100%",
        align="start",
    )


def _address_book(side: str) -> rx.Component:
    return rx.cond(
        ShipState.address_book.length() > 0,
        rx.el.select(
            rx.el.option(t("address_book_pick"), value=""),
            rx.foreach(ShipState.address_book, lambda a: rx.el.option(a["label"], value=a["id"])),
            value="",
            on_change=lambda value: ShipState.fill_address(side, value),
            aria_label=t("address_book"),
            class_name="select-input",
            data_testid=f"{side}-address-book",
        ),
    )


def _address(side: str) -> rx.Component:
    p = side + "_"
    return rx.el.fieldset(
        rx.el.legend(t(side), class_name="legend"),
        _address_book(side),
        rx.grid(
            _input("full_name", p + "name", autocomplete="name" if side == "sender" else "off"),
            _input(
                "phone", p + "phone", type_="tel", autocomplete="tel" if side == "sender" else "off"
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        _input("address_line1", p + "line1"),
        _input("address_line2", p + "line2"),
        rx.grid(
            _input("district", p + "district"),
            _input("city_area", p + "city"),
            _country_select(side),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            _value(p + "country") == "CN", _input("postcode", p + "postcode", input_mode="numeric")
        ),
        class_name="form-section",
        data_testid=f"{side}-section",
        key=getattr(ShipState, f"{side}_version").to_string(),
    )


def _parcel(parcel: rx.Var, index: rx.Var) -> rx.Component:
    def name(f: str) -> rx.Var:
        return "parcel_" + index.to_string() + "_" + f

    def box(label_key: str, f: str, **kwargs) -> rx.Component:
        return field(
            label_key,
            name(f),
            _error(name(f)),
            default_value=parcel[f],
            on_blur=lambda value: ShipState.set_parcel_field(index, f, value),
            **kwargs,
        )

    return rx.box(
        rx.hstack(
            rx.text(t("parcel_n"), " ", index + 1, weight="bold"),
            rx.spacer(),
            rx.cond(
                ShipState.parcel_count > 1,
                rx.button(
                    t("remove_parcel"),
                    type="button",
                    variant="ghost",
                    size="1",
                    on_click=ShipState.remove_parcel(index),
                ),
            ),
            width="100%",
        ),
        rx.grid(
            box("weight_kg", "weight_kg", input_mode="decimal"),
            box("length_cm", "length_cm", input_mode="decimal"),
            box("width_cm", "width_cm", input_mode="decimal"),
            box("height_cm", "height_cm", input_mode="decimal"),
            columns=rx.breakpoints(initial="2", sm="4"),
            spacing="3",
            width="100%",
        ),
        rx.grid(
            box("contents", "contents"),
            box("declared_value", "declared_value", input_mode="decimal"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        class_name="parcel-box",
        data_testid="parcel",
    )


def _service() -> rx.Component:
    return rx.vstack(
        rx.el.label(t("service_level"), html_for="service_level", class_name="field-label"),
        rx.el.select(
            *[rx.el.option(t(f"service.{s}"), value=s) for s in SERVICES],
            id="service_level",
            name="service_level",
            default_value=_value("service_level"),
            class_name="select-input",
        ),
        rx.text(
            _error("service_level"),
            role="alert",
            size="2",
            color_scheme="red",
            class_name="field-error",
        ),
        spacing="1",
        align="start",
    )


def ship_page() -> rx.Component:
    return portal_shell(
        rx.vstack(
            rx.heading(t("ship_title"), size="7", as_="h1"),
            rx.text(t("ship_intro"), color_scheme="gray"),
            form_error(ShipState.form_error),
            rx.form(
                rx.vstack(
                    _address("sender"),
                    _address("recipient"),
                    rx.el.fieldset(
                        rx.el.legend(t("parcels"), class_name="legend"),
                        rx.cond(
                            ShipState.cross_border,
                            rx.callout(t("customs_hint"), icon="info", size="1"),
                        ),
                        rx.box(
                            rx.foreach(ShipState.parcels, _parcel),
                            key=ShipState.parcels_version.to_string(),
                            width="100%",
                        ),
                        rx.text(
                            _error("parcels"),
                            role="alert",
                            size="2",
                            color_scheme="red",
                            class_name="field-error",
                        ),
                        rx.cond(
                            ShipState.parcel_count < 5,
                            rx.button(
                                t("add_parcel"),
                                type="button",
                                variant="outline",
                                on_click=ShipState.add_parcel,
                                data_testid="add-parcel",
                            ),
                        ),
                        class_name="form-section",
                    ),
                    rx.el.fieldset(
                        rx.el.legend(t("service_level"), class_name="legend"),
                        _service(),
                        rx.el.label(
                            rx.el.input(
                                type="checkbox",
                                name="insured",
                                default_checked=_value("insured") == "on",
                            ),
                            " ",
                            t("insure"),
                        ),
                        rx.cond(
                            PortalState.signed_in,
                            rx.el.label(
                                rx.el.input(type="checkbox", name="save_addresses"),
                                " ",
                                t("save_addresses"),
                            ),
                            rx.box(
                                _input(
                                    "guest_email",
                                    "guest_email",
                                    type_="email",
                                    autocomplete="email",
                                ),
                                rx.text(t("guest_hint"), size="1", color_scheme="gray"),
                                width="100%",
                            ),
                        ),
                        class_name="form-section",
                    ),
                    rx.button(
                        t("review_order"), type="submit", size="3", data_testid="review-order"
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ShipState.review,
                reset_on_submit=False,
                no_validate=True,
                width="100%",
            ),
            spacing="4",
            width="100%",
        )
    )
