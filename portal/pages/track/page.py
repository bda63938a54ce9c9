"""The tracking page: a box for numbers, and one card per number with its status and journey."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import form_error
from portal.components.layout import portal_shell
from portal.components.status_badge import status_badge
from portal.i18n import next_step_text, reason_text, status_label, t
from portal.pages.track.state import EventView, ResultView, TrackState


def _search_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(t("track_numbers_label"), html_for="numbers", class_name="field-label"),
            rx.text_area(
                id="numbers",
                name="numbers",
                value=TrackState.query,
                on_change=TrackState.set_query,
                rows="3",
                width="100%",
                size="3",
                placeholder="WB123456785HK",
                aria_describedby="numbers-hint",
                auto_complete=False,
                spell_check=False,
            ),
            rx.text(t("track_intro"), id="numbers-hint", size="2", color_scheme="gray"),
            form_error(TrackState.form_error),
            rx.button(t("track_button"), type="submit", size="3", data_testid="track-submit"),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=TrackState.submit,
        reset_on_submit=False,
        no_validate=True,
        role="search",
    )


def _fact(label_key: str, value: rx.Var, test_id: str) -> rx.Component:
    return rx.cond(
        value != "",
        rx.vstack(
            rx.text(t(label_key), size="1", color_scheme="gray"),
            rx.text(value, size="2", weight="medium", data_testid=test_id),
            spacing="0",
        ),
    )


def _event_row(event: EventView) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.box(class_name="timeline-dot"),
            rx.vstack(
                rx.hstack(
                    rx.text(status_label(event.status), weight="bold", size="2"),
                    rx.text(event.place, size="2", color_scheme="gray"),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.cond(event.reason != "", rx.text(reason_text(event.reason), size="2")),
                rx.text(rx.el.time(event.when, " ", event.zone), size="1", color_scheme="gray"),
                spacing="0",
            ),
            align="start",
        ),
        class_name="timeline-item",
    )


def _reveal_form(result: ResultView) -> rx.Component:
    return rx.cond(
        result.revealed,
        rx.vstack(
            rx.heading(t("recipient_details"), size="3", as_="h3"),
            rx.text(t("name"), ": ", result.recipient_name, data_testid="recipient-name"),
            rx.text(t("phone"), ": ", result.recipient_phone, data_testid="recipient-phone"),
            rx.text(t("address"), ": ", result.recipient_address, data_testid="recipient-address"),
            spacing="1",
        ),
        rx.form(
            rx.vstack(
                rx.heading(t("recipient_details"), size="3", as_="h3"),
                rx.text(t("verify_intro"), size="2"),
                rx.el.input(type="hidden", name="number", value=result.number),
                rx.hstack(
                    rx.input(
                        name="factor",
                        aria_label=t("verify_label"),
                        placeholder=t("verify_label"),
                        auto_complete="off",
                        max_length=20,
                        # Wide enough for its placeholder, never wider than a phone's screen.
                        width="18em",
                        max_width="100%",
                        data_testid="verify-input",
                    ),
                    rx.button(
                        t("verify_button"),
                        type="submit",
                        variant="outline",
                        data_testid="verify-submit",
                    ),
                    wrap="wrap",
                ),
                rx.text(
                    result.verify_error,
                    role="alert",
                    size="2",
                    color_scheme="red",
                    class_name="field-error",
                    data_testid="verify-error",
                ),
                spacing="2",
            ),
            # Reflex hoists a form's submit handler out of foreach, so the number travels
            # in a hidden field rather than as a captured loop variable.
            on_submit=TrackState.reveal,
            reset_on_submit=True,
            no_validate=True,
        ),
    )


def _found(result: ResultView) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            status_badge(result.status, size="3"),
            rx.cond(
                result.reason != "",
                rx.text(reason_text(result.reason), size="2", data_testid="reason"),
            ),
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            result.next_step != "",
            rx.callout(
                rx.text(
                    rx.text.strong(t("what_you_can_do"), ": "), next_step_text(result.next_step)
                ),
                icon="info",
                color_scheme="amber",
                width="100%",
                data_testid="next-step",
            ),
        ),
        rx.flex(
            _fact("carrier", result.carrier, "carrier"),
            _fact("route", result.origin + " → " + result.destination, "route"),
            _fact("eta", result.eta, "eta"),
            _fact("last_update", result.last_update, "last-update"),
            spacing="5",
            wrap="wrap",
        ),
        rx.heading(t("timeline"), size="3", as_="h3"),
        rx.cond(
            result.events.length() > 0,
            rx.el.ol(
                rx.foreach(result.events, _event_row), class_name="timeline", data_testid="timeline"
            ),
            rx.text(t("no_events"), size="2"),
        ),
        _reveal_form(result),
        spacing="3",
        width="100%",
        align="start",
    )


def _result_card(result: ResultView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(rx.code(result.number, size="4"), size="4", as_="h2"),
                rx.spacer(),
                rx.cond(
                    result.outcome == "found",
                    rx.link(t("share_link"), href="/track/" + result.number, size="2"),
                ),
                width="100%",
                align="center",
            ),
            rx.match(
                result.outcome,
                ("found", _found(result)),
                (
                    "unknown",
                    rx.callout(
                        t("result_unknown"),
                        icon="search",
                        color_scheme="gray",
                        data_testid="result-unknown",
                    ),
                ),
                rx.callout(
                    t("result_malformed"),
                    icon="triangle_alert",
                    color_scheme="red",
                    data_testid="result-malformed",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="track-result",
        data_outcome=result.outcome,
        aria_live="polite",
    )


def track_page() -> rx.Component:
    return portal_shell(
        rx.vstack(
            rx.heading(t("track_title"), size="7", as_="h1"),
            _search_form(),
            rx.vstack(
                rx.foreach(TrackState.shown_results, _result_card),
                spacing="4",
                width="100%",
                data_testid="track-results",
            ),
            spacing="5",
            width="100%",
        )
    )
