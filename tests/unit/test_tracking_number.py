"""UPU S10 tracking numbers: the check digit, telling good numbers from bad, making and generating."""

from __future__ import annotations

import re

import pytest

from backend.domain import tracking_number
from backend.domain.tracking_number import NumberCheck, check, make, normalize, s10_check_digit

KNOWN_VALID = "RA123456785GB"  # the UPU S10 worked example


def _reference_check_digit(serial: str) -> int:
    """The S10 rule written out longhand, independently of the product's table of weights."""
    weights = [8, 6, 4, 2, 3, 5, 9, 7]
    total = 0
    for index in range(8):
        total += int(serial[index]) * weights[index]
    remainder = 11 - (total % 11)
    if remainder == 10:
        return 0
    if remainder == 11:
        return 5
    return remainder


def test_check_digit_of_the_upu_worked_example_is_five():
    assert s10_check_digit("12345678") == 5


def test_known_valid_number_checks_valid():
    assert check(KNOWN_VALID) is NumberCheck.VALID


@pytest.mark.parametrize(
    "serial",
    ["00000000", "99999999", "12345678", "47312482", "10000000", "00000001", "31415926"],
)
def test_check_digit_matches_the_s10_rule(serial):
    assert s10_check_digit(serial) == _reference_check_digit(serial)


def test_a_sum_divisible_by_eleven_gives_check_digit_five():
    # "00000000" weighs 0; 11 - 0 = 11, which S10 maps to 5.
    assert s10_check_digit("00000000") == 5


def test_a_remainder_of_one_gives_check_digit_zero():
    # A weighted sum of 1 mod 11 gives 11 - 1 = 10, which S10 maps to 0.
    serial = next(
        f"{n:08d}"
        for n in range(10_000)
        if sum(int(d) * w for d, w in zip(f"{n:08d}", (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
        == 1
    )
    assert s10_check_digit(serial) == 0


@pytest.mark.parametrize("serial", ["1234567", "123456789", "1234567a", "", "1234 678"])
def test_check_digit_refuses_anything_but_eight_digits(serial):
    with pytest.raises(ValueError):
        s10_check_digit(serial)


@pytest.mark.parametrize(
    "typed",
    ["ra123456785gb", " RA 1234 5678 5 GB ", "RA-12345678-5-GB", "Ra\t123456785\ngB"],
)
def test_numbers_people_paste_with_spaces_dashes_or_lower_case_check_valid(typed):
    assert normalize(typed) == KNOWN_VALID
    assert check(typed) is NumberCheck.VALID


@pytest.mark.parametrize("wrong_digit", [d for d in "0123456789" if d != "5"])
def test_every_other_check_digit_is_reported_as_a_bad_check_digit(wrong_digit):
    assert check(f"RA12345678{wrong_digit}GB") is NumberCheck.BAD_CHECK_DIGIT


def test_a_swapped_pair_of_digits_is_caught():
    # Transpositions are the typo the weighted sum exists to catch.
    assert check("RA213456785GB") is NumberCheck.BAD_CHECK_DIGIT


@pytest.mark.parametrize(
    "number",
    [
        "",
        "RA12345678GB",  # no check digit
        "RA1234567855GB",  # one digit too many
        "R123456785GB",  # one letter prefix
        "RA123456785G",  # one letter country
        "12123456785GB",  # digits for the prefix
        "RA123456785G1",
        "1Z999AA10123456784",  # a UPS number
        "RA12345678XGB",
        "RA123456785GBX",
    ],
)
def test_other_layouts_are_not_s10(number):
    assert check(number) is NumberCheck.NOT_S10


def test_make_builds_a_valid_hong_kong_number_by_default():
    number = make("WB", 12345678)
    assert number == "WB123456785HK"
    assert check(number) is NumberCheck.VALID


def test_make_pads_small_serials_to_eight_digits():
    number = make("DG", 42)
    assert number[2:10] == "00000042"
    assert check(number) is NumberCheck.VALID


def test_make_takes_another_country():
    assert make("RA", 12345678, country="GB") == KNOWN_VALID


@pytest.mark.parametrize("serial", [0, 1, 99_999_999])
def test_make_accepts_the_whole_serial_range(serial):
    assert check(make("WB", serial)) is NumberCheck.VALID


@pytest.mark.parametrize("serial", [-1, 100_000_000, 10**12])
def test_make_refuses_serials_outside_eight_digits(serial):
    with pytest.raises(ValueError):
        make("WB", serial)


@pytest.mark.parametrize(
    ("prefix", "country"), [("wb", "HK"), ("W", "HK"), ("WBX", "HK"), ("W1", "HK"), ("WB", "hk")]
)
def test_make_refuses_prefixes_and_countries_that_are_not_two_capitals(prefix, country):
    with pytest.raises(ValueError):
        make(prefix, 1, country=country)


def test_generate_makes_valid_numbers_with_the_prefix():
    numbers = {tracking_number.generate() for _ in range(200)}
    assert all(re.fullmatch(r"WB\d{9}HK", n) for n in numbers)
    assert all(check(n) is NumberCheck.VALID for n in numbers)
    assert len(numbers) > 190  # random serials: collisions among 200 are vanishingly rare


def test_generate_uses_the_given_prefix():
    number = tracking_number.generate("DG")
    assert number.startswith("DG") and number.endswith("HK")
    assert check(number) is NumberCheck.VALID


def test_every_made_number_survives_a_round_trip_through_check():
    for serial in range(0, 10**8, 7_654_321):
        number = make("WB", serial)
        assert check(number) is NumberCheck.VALID
        assert check(number[:10] + str((int(number[10]) + 1) % 10) + number[11:]) is (
            NumberCheck.BAD_CHECK_DIGIT
        )


def test_a_number_typed_with_full_width_digits_is_either_normalized_or_refused():
    typed = "RA１２３４５６７８５GB"  # what a CJK input method produces
    assert normalize(typed) == KNOWN_VALID or check(typed) is NumberCheck.NOT_S10
