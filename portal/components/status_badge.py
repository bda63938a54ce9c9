"""A shipment status in words and colour: green delivered, red trouble, amber waiting, blue moving."""

from __future__ import annotations

import reflex as rx

from portal.i18n import status_label

_COLOURS = {
    "delivered": "green",
    "delivery_failed": "red",
    "exception": "red",
    "returning": "orange",
    "returned": "orange",
    "customs": "amber",
    "ready_for_pickup": "amber",
    "cancelled": "gray",
    "unknown": "gray",
}


def status_colour(status: rx.Var) -> rx.Var:
    return rx.match(status, *_COLOURS.items(), "blue")


def status_badge(status: rx.Var, size: str = "2") -> rx.Component:
    return rx.badge(
        status_label(status),
        color_scheme=status_colour(status),
        size=size,
        variant="soft",
        high_contrast=True,
        data_testid="status-badge",
    )
