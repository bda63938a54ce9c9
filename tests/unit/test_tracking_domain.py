"""Tracking rules without servers: next steps, classifying numbers, splitting pasted text, local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from backend.domain import tracking_number
from backend.domain.statuses import ShipmentStatus as S
from backend.domain.tracking import (
    MAX_NUMBER_LENGTH,
    NextStep,
    NumberKind,
    Reason,
    classify,
    local_time,
    next_step,
    split_numbers,
)

VALID = tracking_number.make("WB", 12345678)  # WB123456785HK
PARTNER = [re.compile(r"^PR\d{10}$"), re.compile(r"^SL[A-Z0-9]{10}$")]


def _bad_check_digit(number: str) -> str:
    digit = int(number[10])
    return f"{number[:10]}{(digit + 1) % 10}{number[11:]}"


# ---- next_step ----


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        # Failed deliveries: the reason decides, an absent recipient reschedules.
        (S.DELIVERY_FAILED, Reason.RECIPIENT_ABSENT, NextStep.RESCHEDULE),
        (S.DELIVERY_FAILED, Reason.BAD_ADDRESS, NextStep.UPDATE_ADDRESS),
        (S.DELIVERY_FAILED, Reason.REFUSED, NextStep.CONTACT_SENDER),
        (S.DELIVERY_FAILED, Reason.WEATHER, NextStep.WAIT),
        (S.DELIVERY_FAILED, Reason.HELD_AT_DEPOT, NextStep.COLLECT_AT_LOCKER),
        (S.DELIVERY_FAILED, "", NextStep.RESCHEDULE),
        # A reason code we do not know falls back to what the status suggests.
        (S.DELIVERY_FAILED, "gremlins", NextStep.RESCHEDULE),
        # Waiting at a locker: collect it, whatever brought it there.
        (S.READY_FOR_PICKUP, "", NextStep.COLLECT_AT_LOCKER),
        (S.READY_FOR_PICKUP, Reason.RECIPIENT_ABSENT, NextStep.COLLECT_AT_LOCKER),
        (S.READY_FOR_PICKUP, Reason.HELD_AT_DEPOT, NextStep.COLLECT_AT_LOCKER),
        # Customs: documents or duty; a routine customs stop needs nothing.
        (S.CUSTOMS, Reason.CUSTOMS_DOCUMENTS, NextStep.PROVIDE_CUSTOMS_DOCUMENTS),
        (S.CUSTOMS, Reason.CUSTOMS_DUTY, NextStep.PAY_CUSTOMS_DUTY),
        (S.CUSTOMS, "", None),
        # Exceptions.
        (S.EXCEPTION, Reason.DAMAGED, NextStep.CONTACT_SUPPORT),
        (S.EXCEPTION, Reason.LOST, NextStep.CONTACT_SUPPORT),
        (S.EXCEPTION, Reason.WEATHER, NextStep.WAIT),
        (S.EXCEPTION, Reason.BAD_ADDRESS, NextStep.UPDATE_ADDRESS),
        (S.EXCEPTION, "", NextStep.CONTACT_SUPPORT),
        (S.RETURNING, "", NextStep.CONTACT_SENDER),
        (S.RETURNING, Reason.REFUSED, NextStep.CONTACT_SENDER),
        (S.UNKNOWN, "", NextStep.CONTACT_SUPPORT),
        # Nothing for the customer to do: the reason is information only.
        (S.DELIVERED, "", None),
        (S.DELIVERED, Reason.RECIPIENT_ABSENT, None),
        (S.IN_TRANSIT, Reason.WEATHER, None),
        (S.OUT_FOR_DELIVERY, "", None),
        (S.PENDING, "", None),
        (S.PICKED_UP, "", None),
        (S.RETURNED, Reason.REFUSED, None),
        (S.CANCELLED, "", None),
    ],
)
def test_next_step(status: S, reason: str, expected: NextStep | None):
    assert next_step(status.value, str(reason)) == expected


def test_next_step_of_a_status_we_do_not_know_is_none():
    assert next_step("teleported", Reason.RECIPIENT_ABSENT.value) is None


def test_every_reason_leads_somewhere_when_a_delivery_fails():
    assert all(next_step(S.DELIVERY_FAILED, reason) for reason in Reason)


# ---- classify ----


def test_a_valid_s10_number_is_ours_and_normalized():
    parsed = classify(f"  {VALID[:5].lower()} {VALID[5:9]}-{VALID[9:]} ")
    assert (parsed.kind, parsed.number) == (NumberKind.OURS, VALID)


def test_full_width_digits_from_a_cjk_keyboard_are_read_as_ascii():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VALID)
    assert classify(full_width).kind is NumberKind.OURS


def test_s10_layout_with_a_bad_check_digit_is_malformed_even_if_a_partner_pattern_matches_all():
    bad = _bad_check_digit(VALID)
    assert classify(bad).kind is NumberKind.MALFORMED
    assert classify(bad, [re.compile(r".+")]).kind is NumberKind.MALFORMED


def test_a_partner_layout_is_accepted_only_when_a_carrier_claims_it():
    parsed = classify("pr 2026112201", PARTNER)
    assert (parsed.kind, parsed.number) == (NumberKind.PARTNER, "PR2026112201")
    assert classify("PR2026112201", []).kind is NumberKind.MALFORMED
    assert classify("PR2026112201").kind is NumberKind.MALFORMED
    assert classify("PR20261122", PARTNER).kind is NumberKind.MALFORMED  # too short for it


@pytest.mark.parametrize(
    "garbage",
    ["", "hello", "12345", "<script>alert(1)</script>", "' OR 1=1 --", "WB12345678HK", "\x00"],
)
def test_garbage_is_malformed(garbage: str):
    assert classify(garbage, PARTNER).kind is NumberKind.MALFORMED


def test_other_scripts_digits_never_match_a_partner_pattern():
    arabic_indic = "PR" + "".join(chr(0x0660 + int(d)) for d in "2026112201")
    assert classify(arabic_indic, PARTNER).kind is NumberKind.MALFORMED


def test_over_long_input_is_malformed_not_cut_down_to_a_match():
    # The first 12 characters alone would be a partner's number.
    long = "PR2026112201" + "9" * MAX_NUMBER_LENGTH
    parsed = classify(long, [re.compile(r"^PR\d+$")])
    assert parsed.kind is NumberKind.MALFORMED
    assert len(parsed.number) == MAX_NUMBER_LENGTH
    assert classify(VALID + "X" * 40).kind is NumberKind.MALFORMED


# ---- split_numbers ----


def test_split_numbers_on_spaces_commas_semicolons_and_new_lines():
    text = f" {VALID}, PR2026112201\nAB1\r\n\tcd2 ;EF3,,  "
    assert split_numbers(text) == [VALID, "PR2026112201", "AB1", "CD2", "EF3"]


def test_split_numbers_keeps_the_first_of_duplicates_whatever_their_case():
    assert split_numbers(f"{VALID.lower()} {VALID}\n{VALID}") == [VALID]


def test_split_numbers_of_blank_text_is_empty():
    assert split_numbers("") == []
    assert split_numbers(" ,\n; ") == []


# ---- local_time ----

MOMENT = datetime(2026, 1, 15, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("country", "hours"),
    [("HK", 8), ("hk", 8), ("CN", 8), ("MO", 8), ("JP", 9), ("GB", 0), ("US", -5), ("", 8)],
)
def test_local_time_is_the_same_moment_on_the_local_clock(country: str, hours: int):
    local = local_time(MOMENT, country)
    assert local == MOMENT
    assert local.utcoffset() == timedelta(hours=hours)


def test_local_time_in_hong_kong_crosses_midnight():
    local = local_time(MOMENT, "HK")
    assert (local.day, local.hour, local.minute) == (16, 0, 30)
    assert local.isoformat() == "2026-01-16T00:30:00+08:00"


def test_an_unknown_country_shows_hong_kong_time():
    assert local_time(MOMENT, "ZZ").utcoffset() == timedelta(hours=8)


def test_a_naive_time_is_taken_as_utc_not_as_the_servers_clock():
    assert local_time(MOMENT.replace(tzinfo=None), "CN") == MOMENT
