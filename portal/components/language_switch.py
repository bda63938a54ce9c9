"""The English / 繁體中文 switch shown in both portals' headers."""

from __future__ import annotations

import reflex as rx

from portal.i18n import LOCALE_LABELS, t
from portal.state.base import AppState


def _is_current(code: str) -> rx.Var:
    # An unchosen language ("") shows as English, which is what t() renders then.
    return AppState.locale == "zh-HK" if code == "zh-HK" else AppState.locale != "zh-HK"


def language_switch() -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                label,
                on_click=AppState.set_locale(code),
                # Solid grey for the current language, a light surface for the other: both
                # stay readable on any brand colour behind them.
                variant=rx.cond(_is_current(code), "solid", "surface"),
                color_scheme="gray",
                high_contrast=True,
                size="1",
                lang=code,
                aria_pressed=rx.cond(_is_current(code), "true", "false"),
                data_testid=f"lang-{code}",
            )
            for code, label in LOCALE_LABELS.items()
        ],
        role="group",
        aria_label=t("language"),
        spacing="1",
    )
