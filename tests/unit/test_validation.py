"""Field rules for sign-up and profiles: each failure is one code the UI translates."""

from __future__ import annotations

import pytest

from backend.domain import validation
from backend.domain.validation import (
    display_name_error,
    email_error,
    normalize_email,
    normalize_phone,
    password_error,
    phone_error,
)

# -- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["mei@example.com", "  Mei.Chan+hk@Example.COM  ", "a.b-c_d@sub.example.org"]
)
def test_ordinary_emails_pass(email):
    assert email_error(email) is None


@pytest.mark.parametrize("email", ["", "   ", "\t\n"])
def test_a_blank_email_is_required(email):
    assert email_error(email) == "email_required"


@pytest.mark.parametrize(
    "email",
    ["mei", "mei@", "@example.com", "mei@example", "mei@@example.com", "mei chan@example.com"],
)
def test_malformed_emails_are_invalid(email):
    assert email_error(email) == "email_invalid"


def test_an_email_longer_than_254_characters_is_too_long():
    email = "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com"
    assert len(email) > validation.EMAIL_MAX
    assert email_error(email) == "email_too_long"


def test_emails_are_normalized_to_trimmed_lower_case():
    assert normalize_email("  Mei.Chan@Example.COM ") == "mei.chan@example.com"


# -- password ---------------------------------------------------------------------------------


def test_a_long_varied_password_passes():
    assert password_error("harbour-lights-2026", "mei@example.com") is None


def test_a_password_of_exactly_the_minimum_length_passes():
    assert password_error("abcd" + "e" * (validation.PASSWORD_MIN - 4)) is None


def test_a_password_one_short_of_the_minimum_is_too_short():
    assert password_error("abcdefghi"[: validation.PASSWORD_MIN - 1]) == "password_too_short"


def test_a_password_of_exactly_the_maximum_length_passes():
    assert password_error(("abcd" * 40)[: validation.PASSWORD_MAX]) is None


def test_a_password_over_the_maximum_is_too_long():
    assert password_error("abcd" * 40) == "password_too_long"


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "abababababab", "abcabcabcabc"])
def test_a_password_of_fewer_than_four_distinct_characters_is_too_simple(password):
    assert password_error(password) == "password_too_simple"


@pytest.mark.parametrize(
    "password", ["mei.chan@example.com", "MEI.CHAN@EXAMPLE.COM", " mei.chan@example.com "]
)
def test_a_password_equal_to_the_email_is_refused_whatever_its_case(password):
    assert password_error(password, "Mei.Chan@Example.com") == "password_is_email"


def test_a_password_containing_the_email_but_longer_is_allowed():
    assert password_error("mei.chan@example.com!!", "mei.chan@example.com") is None


# -- display name -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mei Chan", "陳美", "O'Brien-Smith", "x" * validation.NAME_MAX])
def test_ordinary_names_pass(name):
    assert display_name_error(name) is None


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_name_is_required(name):
    assert display_name_error(name) == "name_required"


def test_a_name_over_80_characters_is_too_long():
    assert display_name_error("x" * (validation.NAME_MAX + 1)) == "name_too_long"


def test_surrounding_spaces_do_not_count_towards_the_name_length():
    assert display_name_error("  " + "x" * validation.NAME_MAX + "  ") is None


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", "Mei > Chan", "Mei\x00Chan", "Mei\u202eChan", "a\x07b"]
)
def test_names_with_markup_or_control_characters_are_invalid(name):
    assert display_name_error(name) == "name_invalid"


# -- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("9123 4567", "+85291234567"),
        ("2345-6789", "+85223456789"),
        ("+852 9123 4567", "+85291234567"),
        ("+44 (20) 7946 0958", "+442079460958"),
        ("+86 138 0013 8000", "+8613800138000"),
    ],
)
def test_phones_are_normalized_and_local_hong_kong_numbers_get_plus_852(raw, normalized):
    assert normalize_phone(raw) == normalized
    assert phone_error(raw) is None


@pytest.mark.parametrize("raw", ["1234 5678", "0123 4567"])
def test_eight_digits_starting_0_or_1_are_not_taken_for_hong_kong_numbers(raw):
    assert not normalize_phone(raw).startswith("+852")


@pytest.mark.parametrize(
    "raw",
    [
        "12345",  # too short
        "+1234567890123456",  # 16 digits: longer than E.164 allows
        "9123 45x7",
        "call me",
        "+852 9123 4567 ext 9",
        "9" * 31,  # over 30 characters before normalizing
        "+852１２３４５６７８",  # full-width digits
    ],
)
def test_bad_phones_are_invalid(raw):
    assert phone_error(raw) == "phone_invalid"


def test_a_phone_is_optional_unless_required():
    assert phone_error("") is None
    assert phone_error("   ") is None
    assert phone_error("", required=True) == "phone_required"
