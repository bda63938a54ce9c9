"""Pieces every staff list page shares: the pager, the empty text, the not-allowed notice."""

from __future__ import annotations

import reflex as rx

from portal.i18n import t


def pager(state) -> rx.Component:
    """First page / next page buttons of a PagedStaffState."""
    return rx.hstack(
        rx.button(t("first_page"), on_click=state.first_page, variant="outline", size="2"),
        rx.button(t("next_page"), on_click=state.next_page, disabled=~state.has_next, size="2"),
    )


def rows_or_empty(rows: rx.Var, table: rx.Component) -> rx.Component:
    return rx.cond(
        rows.length() > 0, rx.box(table, overflow_x="auto", width="100%"), rx.text(t("no_rows"))
    )


def not_allowed() -> rx.Component:
    return rx.callout(t("not_allowed"), icon="ban", color_scheme="red", data_testid="not-allowed")


def when_allowed(allowed: rx.Var, *children: rx.Component) -> rx.Component:
    """The page's content if the role allows it (the service decided), else the notice."""
    return rx.cond(allowed, rx.vstack(*children, spacing="3", width="100%"), not_allowed())
