"""Labelled form fields with their error message right below, announced to screen readers."""

from __future__ import annotations

import reflex as rx

from portal.i18n import t


def field(
    label_key: str,
    name: str,
    error: rx.Var,
    *,
    type_: str = "text",
    autocomplete: str = "off",
    hint_key: str | None = None,
    default_value: rx.Var | str | None = None,
    input_mode: str | None = None,
    on_blur=None,
) -> rx.Component:
    """`name` may be a Var (fields repeated per parcel); `default_value` refills a form."""
    described_by = name + "-error" + (" " + name + "-hint" if hint_key else "")
    extra = {} if default_value is None else {"default_value": default_value}
    if input_mode:
        extra["input_mode"] = input_mode
    if on_blur is not None:
        extra["on_blur"] = on_blur
    children = [
        rx.el.label(t(label_key), html_for=name, class_name="field-label"),
        rx.input(
            id=name,
            name=name,
            type=type_,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=described_by,
            **extra,
        ),
    ]
    if hint_key:
        children.append(rx.text(t(hint_key), id=name + "-hint", size="1", color_scheme="gray"))
    children.append(
        rx.text(
            error,
            id=name + "-error",
            role="alert",
            size="2",
            color_scheme="red",
            class_name="field-error",
        )
    )
    return rx.vstack(*children, spacing="1", width="100%", align="start")


def form_error(error: rx.Var, test_id: str = "form-error") -> rx.Component:
    return rx.cond(
        error != "",
        rx.callout(
            error,
            icon="triangle_alert",
            color_scheme="red",
            role="alert",
            width="100%",
            data_testid=test_id,
        ),
    )
